"""Embeddings of the labelled eval photos in ../shared/data/eval, cached under .cache/.

Each unique photo of the LFW pairs and of the curated Chinese-celebrity pairs is decoded, its
largest face embedded with the pack's recognizer; photos without a face are left out. Used by
bench/search.py (real vectors among the random ones) and bench/operating_points.py (impostor
scores for the per-app similarity thresholds).

usage: .venv/bin/python bench/eval_embeddings.py [--pack default]
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend.vision.engine import FaceEngine  # noqa: E402
from face_backend.vision.image_io import decode_image  # noqa: E402

EVAL = REPO.parent / "shared" / "data" / "eval"
SETS = {"lfw": EVAL / "lfw_pairs" / "pairs.csv", "cn": EVAL / "asian_celeb_faces" / "pairs_curated_cn.csv"}


def photos(name: str) -> list[tuple[str, Path]]:
    """(identity, path) of every unique photo in a pairs set, in a stable order."""
    csv_path = SETS[name]
    found: dict[Path, str] = {}
    with csv_path.open() as f:
        for row in csv.DictReader(f):
            for side in ("1", "2"):
                found.setdefault(csv_path.parent / row[f"path{side}"], row[f"identity{side}"])
    return sorted(((ident, path) for path, ident in found.items()), key=lambda item: str(item[1]))


def cache_path(name: str, pack: str) -> Path:
    return REPO / ".cache" / f"eval_embeddings_{name}_{pack}.npz"


def load(name: str, pack: str = "default") -> dict[str, np.ndarray]:
    """{"identities", "paths", "vectors" (float32, unit rows)}, computed once and cached."""
    path = cache_path(name, pack)
    if not path.exists() or _cached_recipe(path) != FaceEngine(pack).embedding_recipe:
        compute(name, pack)
    with np.load(path) as data:
        return {key: data[key] for key in data.files if key != "recipe"}


def _cached_recipe(path: Path) -> str:
    with np.load(path) as data:
        return str(data["recipe"]) if "recipe" in data.files else ""


def compute(name: str, pack: str) -> None:
    engine = FaceEngine(pack)
    engine.warm_up(optional=False)
    identities, paths, vectors = [], [], []
    started = time.perf_counter()
    for ident, photo in photos(name):
        img = decode_image(photo.read_bytes())
        faces = engine.detect(img)
        if not faces:
            continue
        identities.append(ident)
        paths.append(str(photo.relative_to(EVAL)))
        vectors.append(engine.embed(img, faces[0]).astype(np.float32))
    out = cache_path(name, pack)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, identities=np.array(identities), paths=np.array(paths), vectors=np.stack(vectors),
             recipe=np.array(engine.embedding_recipe))
    tmp.replace(out)
    print(f"{name}/{pack}: {len(vectors)} faces embedded in {time.perf_counter() - started:.0f} s -> {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="default")
    args = parser.parse_args()
    for name in SETS:
        load(name, args.pack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
