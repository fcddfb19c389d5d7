"""The face backend's settings: one frozen object, read from the environment once per process.

Every module of the backend takes its settings from `get()`; nothing else in face_backend reads
the environment. The variable names and defaults are the ones README.md "Settings" lists.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from facegate.config import data_dir, env_bool, persistent_secret

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024  # holds a 2 MB image as base64 with newlines, and more
# The live probability at which a judged face is answered live. 0.5 is where the models' own
# decision (live class most likely) puts it; docs/DECISIONS.md, "Liveness threshold", has the
# measured trade-off for lower values.
DEFAULT_LIVENESS_THRESHOLD = 0.5


@dataclass(frozen=True)
class BackendConfig:
    data_dir: Path  # FACEGATE_DATA_DIR: the model cache lives in its models/ folder
    token: str  # FACEGATE_BACKEND_TOKEN, else the data dir's backend_token file
    host: str = "127.0.0.1"  # FACEGATE_BACKEND_HOST
    port: int = 8001  # FACEGATE_BACKEND_PORT
    threads: int = 2  # FACEGATE_BACKEND_THREADS: concurrent requests per process (default: CPU count)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # FACEGATE_MAX_BODY_BYTES
    decode_slots: int = 1  # FACEGATE_DECODE_SLOTS: images decoded at once (default: threads // 2)
    model_pack: str = "default"  # FACEGATE_MODEL_PACK
    liveness_model: str = "minifasnet"  # FACEGATE_LIVENESS_MODEL
    liveness_threshold: float = DEFAULT_LIVENESS_THRESHOLD  # FACEGATE_LIVENESS_THRESHOLD
    model_mirror: Path | None = None  # FACEGATE_MODEL_MIRROR
    model_download: bool = False  # FACEGATE_MODEL_DOWNLOAD
    onnx_cpu: bool = False  # FACEGATE_ONNX_CPU (any non-empty value)
    onnx_threads: int = 1  # FACEGATE_ONNX_THREADS: intra-op threads per model run (0: onnxruntime's choice)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name) or default)
    if value < 1:
        raise ValueError(f"{name}={value}: must be at least 1")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    value = float(env.get(name) or default)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name}={value}: must be between 0 and 1 (exclusive)")
    return value


def load() -> BackendConfig:
    """A BackendConfig from the process environment (the data dir and token by facegate.config's
    rules, shared with the gateway)."""
    env = os.environ
    mirror = (env.get("FACEGATE_MODEL_MIRROR") or "").strip()
    threads = _positive(env, "FACEGATE_BACKEND_THREADS", os.cpu_count() or 2)
    return BackendConfig(
        data_dir=data_dir(),
        token=persistent_secret("backend_token", "FACEGATE_BACKEND_TOKEN", 32),
        host=env.get("FACEGATE_BACKEND_HOST") or "127.0.0.1",
        port=int(env.get("FACEGATE_BACKEND_PORT") or 8001),
        threads=threads,
        max_body_bytes=_positive(env, "FACEGATE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        # Decoding never takes more than half the request threads: requests past it keep running.
        decode_slots=_positive(env, "FACEGATE_DECODE_SLOTS", max(1, threads // 2)),
        model_pack=(env.get("FACEGATE_MODEL_PACK") or "default").strip().lower(),
        liveness_model=(env.get("FACEGATE_LIVENESS_MODEL") or "").strip() or "minifasnet",
        liveness_threshold=_fraction(env, "FACEGATE_LIVENESS_THRESHOLD", DEFAULT_LIVENESS_THRESHOLD),
        model_mirror=Path(mirror) if mirror else None,
        model_download=env_bool("FACEGATE_MODEL_DOWNLOAD", False),
        onnx_cpu=bool(env.get("FACEGATE_ONNX_CPU")),
        # One thread per model run: the server runs requests (and a compare's two photos) side by
        # side, which costs less CPU per image than splitting each run over cores (DECISIONS.md).
        onnx_threads=int(env.get("FACEGATE_ONNX_THREADS") or 1),
    )


@lru_cache(maxsize=1)
def get() -> BackendConfig:
    """The process's config, loaded on first use (tests that change the environment call
    `get.cache_clear()`)."""
    return load()
