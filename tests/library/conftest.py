"""Face library fixtures: real LFW photos (enrolled, probe and stranger identities) and their
embeddings by the default pack, and an index of each kind (embedded, milvus-lite)."""
from __future__ import annotations

import base64
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from face_backend.vision.engine import FaceEngine, get_engine
from face_backend.vision.image_io import decode_image

PEOPLE = 8  # identities with two photos: one enrolled, one probe
STRANGERS = 4  # identities never enrolled


@dataclass(frozen=True)
class Photo:
    identity: str
    path: Path

    def b64(self) -> str:
        return base64.b64encode(self.path.read_bytes()).decode("ascii")


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return get_engine("default")


@pytest.fixture(scope="session")
def lfw(shared_dir: Path) -> dict[str, list[Photo]]:
    """{"enrol": [...], "probe": [...] (same identities, other photos), "stranger": [...]}."""
    folder = shared_dir / "data" / "eval" / "lfw_pairs"
    with (folder / "pairs.csv").open() as f:
        rows = list(csv.DictReader(f))
    enrol, probe, seen = [], [], set()
    for row in rows:
        if row["same"] == "1" and row["identity1"] not in seen and len(enrol) < PEOPLE:
            seen.add(row["identity1"])
            enrol.append(Photo(row["identity1"], folder / row["path1"]))
            probe.append(Photo(row["identity1"], folder / row["path2"]))
    strangers = []
    for row in rows:
        if row["same"] == "0" and row["identity1"] not in seen and len(strangers) < STRANGERS:
            seen.add(row["identity1"])
            strangers.append(Photo(row["identity1"], folder / row["path1"]))
    return {"enrol": enrol, "probe": probe, "stranger": strangers}


@pytest.fixture(scope="session")
def embed(engine: FaceEngine):
    cache: dict[Path, np.ndarray] = {}

    def run(photo: Photo) -> np.ndarray:
        if photo.path not in cache:
            img = decode_image(photo.path.read_bytes())
            cache[photo.path] = engine.embed(img, engine.detect(img)[0]).astype(np.float32)
        return cache[photo.path]

    return run


@pytest.fixture(params=["embedded", "milvus-lite"])
def index_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _stop_milvus_lite():
    """Stop milvus-lite's in-process servers while pytest's log capture is still open (its own
    exit hook logs into closed streams otherwise)."""
    yield
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_all()
