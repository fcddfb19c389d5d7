"""Train facegate's mask head: logistic regression on HOG + colour features of aligned faces.

Offline tool (never run by the product or the tests):

    .venv/bin/python tools/train_mask.py [--data ../shared/data/mask]

Data: <data>/with_mask/*.jpg (label 1) and <data>/without_mask/*.jpg (label 0), real face photos.
Features use exactly the product's path (face_backend.vision.mask): YuNet detector → largest face →
align_face 112×112 → mask_features (HOG + Lab colour statistics). When the detector finds no face (masks hide the mouth and
nose that YuNet relies on), the whole photo stands in for the face: a pseudo-face whose landmarks
are the alignment template stretched over the image, so align_face maps the photo onto 112×112.
Split: stratified 80/20 with a fixed seed; the head is trained by full-batch gradient descent
on the 80% (plus mirror images) and evaluated on the untouched 20%. Writes face_backend/models/mask_head.npz and the evaluation
report face_backend/models/mask_head_eval.txt (also printed).
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend.model_store import MODELS_DIR  # noqa: E402
from face_backend.vision.align import ARCFACE_112, align_face  # noqa: E402
from face_backend.vision.detector import YuNetDetector  # noqa: E402
from face_backend.vision.mask import MaskHead, mask_features  # noqa: E402
from face_backend.vision.types import Face  # noqa: E402

SEED = 20240601
VAL_FRACTION = 0.2
STEPS = 3000
LEARNING_RATE = 0.5
L2 = 3e-2
CLASSES = ("without_mask", "with_mask")  # label 0, label 1


def whole_image_face(img: np.ndarray) -> Face:
    h, w = img.shape[:2]
    return Face((0, 0, w, h), 0.0, ARCFACE_112 * np.array([w / 112.0, h / 112.0]))


def aligned_crops(data: Path, cache: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Aligned 112×112 crops (N,112,112,3), labels, detected? flags and file names, sorted by file.

    Detection is the slow step, so the crops are cached (gitignored .cache/) for re-runs.
    """
    if cache is not None and cache.is_file():
        with np.load(cache) as c:
            return c["crops"], c["labels"], c["detected"], [str(n) for n in c["names"]]
    detector = YuNetDetector()
    crops, labels, detected, names = [], [], [], []
    for label, folder in enumerate(CLASSES):
        for path in sorted((data / folder).glob("*")):
            img = cv2.imread(str(path))
            if img is None:
                continue
            faces = detector.detect(img)
            face = faces[0] if faces else whole_image_face(img)
            crops.append(align_face(img, face.landmarks, 112))
            labels.append(label)
            detected.append(bool(faces))
            names.append(f"{folder}/{path.name}")
    result = np.array(crops), np.array(labels), np.array(detected), names
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, crops=result[0], labels=result[1], detected=result[2], names=np.array(names))
    return result


def stratified_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.where(labels == label)[0])
        n_val = int(round(len(idx) * VAL_FRACTION))
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(train), np.sort(val)


def fit(x: np.ndarray, y: np.ndarray) -> MaskHead:
    """Standardise, then L2-regularised logistic regression by full-batch gradient descent."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-8
    z = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    # Class weights balance the two folders' sizes.
    cw = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = cw * (p - y) / len(y)
        w -= LEARNING_RATE * (z.T @ g + L2 * w)
        b -= LEARNING_RATE * g.sum()
    return MaskHead(mean, scale, w, b)


def report(y: np.ndarray, p: np.ndarray, title: str) -> list[str]:
    pred = (p >= 0.5).astype(int)
    lines = [f"{title}: n={len(y)} accuracy={np.mean(pred == y):.4f}"]
    for label, name in enumerate(CLASSES):
        tp = int(np.sum((pred == label) & (y == label)))
        precision = tp / max(int(np.sum(pred == label)), 1)
        recall = tp / max(int(np.sum(y == label)), 1)
        lines.append(f"  {name:<13} precision={precision:.4f} recall={recall:.4f} support={int(np.sum(y == label))}")
    lines.append("  confusion (rows = true, cols = predicted; without_mask, with_mask):")
    for label, name in enumerate(CLASSES):
        row = [int(np.sum((y == label) & (pred == k))) for k in range(2)]
        lines.append(f"    {name:<13} {row[0]:>5} {row[1]:>5}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "mask")
    parser.add_argument("--out", type=Path, default=MODELS_DIR / "mask_head.npz")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "mask_crops.npz",
                        help="aligned crops cache (delete it after changing the detector or alignment)")
    args = parser.parse_args()

    started = time.perf_counter()
    crops, y, detected, names = aligned_crops(args.data, args.cache)
    crops_s = time.perf_counter() - started
    started = time.perf_counter()
    x = np.array([mask_features(crop) for crop in crops])
    features_ms = 1000 * (time.perf_counter() - started) / len(x)
    started = time.perf_counter()
    train, val = stratified_split(y, SEED)
    # Mirrored training faces: the aligned template is left-right symmetric, and the mirror
    # copies made the head less eager to call small, blurred or turned faces masked.
    mirrored = np.array([mask_features(np.ascontiguousarray(crops[i][:, ::-1])) for i in train])
    head = fit(np.vstack([x[train], mirrored]), np.concatenate([y[train], y[train]]))
    fit_s = time.perf_counter() - started
    p_train, p_val = head.probability(x[train]), head.probability(x[val])
    wrong = [f"    {names[i]} p(mask)={p_val[k]:.3f}" for k, i in enumerate(val) if (p_val[k] >= 0.5) != y[i]]

    lines = [
        "facegate mask head: logistic regression on HOG + colour features of aligned faces (tools/train_mask.py)",
        f"data: {args.data.name}/ with_mask={int(y.sum())} without_mask={int(len(y) - y.sum())}; "
        f"no face detected (whole photo used): {int((~detected).sum())} "
        f"(with_mask {int((~detected & (y == 1)).sum())}, without_mask {int((~detected & (y == 0)).sum())})",
        f"split: stratified, seed {SEED}, validation {VAL_FRACTION:.0%}: train={len(train)} val={len(val)}",
        f"training: {STEPS} full-batch gradient steps, lr {LEARNING_RATE}, L2 {L2}, balanced class weights, "
        "training faces plus their mirror images",
        f"detection + alignment {crops_s:.0f} s (cached after the first run), features {features_ms:.2f} ms per face, "
        f"fit {fit_s:.1f} s; feature dimension {x.shape[1]}",
        *report(y[train], p_train, "train"),
        *report(y[val], p_val, "VALIDATION"),
        *report(y[val][detected[val]], p_val[detected[val]], "validation, face detected"),
        "validation errors:",
        *wrong,
    ]
    head.save(args.out, features="hog16_lower+hog16_full+lab_bands, align_face 112", seed=str(SEED))
    lines.append(f"wrote {args.out.name}: {args.out.stat().st_size} bytes sha256={hashlib.sha256(args.out.read_bytes()).hexdigest()}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (args.out.parent / "mask_head_eval.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
