"""Train facegate's mask head: 3 classes (no mask / worn correctly / worn incorrectly), one hidden layer.

Offline tool (never run by the product or the tests):

    .venv/bin/python tools/train_mask.py [--data ../shared/data/mask]

Data, all of it ours to train on: <data>/with_mask/*.jpg (real masks, "correct") and
<data>/without_mask/*.jpg (real faces, "no mask"), plus synthetic masks drawn onto the training
split's unmasked faces by tools/mask_synth.py: one worn correctly and two worn incorrectly (below
the nose; below the nose or below the mouth) per face, placed with the detector's landmarks, and
the same faces cut off just under the nose or mouth, labelled "no mask" (tight crops must not read
as a dark mask: mask_synth.cut_below).
The mask textures come from the insightface 2.1 wheel (`pip download --no-deps`, read as a zip;
fetched into .cache/ on the first run). No evaluation set (MaskedFace-Net) is used here.

Features use exactly the product's path (face_backend.vision.mask): YuNet detector → largest face →
align_face 112×112 → mask_features. When the detector finds no face in a real photo (masks hide
the mouth and nose that YuNet relies on), the whole photo stands in for the face: a pseudo-face
whose landmarks are the alignment template stretched over the image. A synthetic photo whose face
is no longer found is dropped (the product would answer "no face" for it).
Split: stratified 80/20 of the real photos with a fixed seed; synthetic faces made from a
validation photo stay in validation. The head (128 ReLU units, softmax) is trained by full-batch
Adam on the training part (plus mirror images) and evaluated on the untouched rest.
Writes face_backend/models/mask_head.npz and the report face_backend/models/mask_head_eval.txt.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from face_backend.model_store import MANIFEST_PATH, MODELS_DIR  # noqa: E402
from face_backend.vision.align import ARCFACE_112, align_face  # noqa: E402
from face_backend.vision.detector import YuNetDetector  # noqa: E402
from face_backend.vision.mask import (  # noqa: E402
    CLASSES as HEAD_CLASSES, HEAD_MODEL, INCORRECT_MARGIN, MaskHead, decide, mask_features)
from face_backend.vision.types import Face, MaskState  # noqa: E402
from mask_synth import cut_below, draw_mask, load_textures  # noqa: E402

SEED = 20240601
VAL_FRACTION = 0.2
HIDDEN = 128
STEPS = 300
LEARNING_RATE = 1e-3
L2 = 1e-2
# The synthetic faces together weigh half as much as the real photos: at equal weight the head
# leaned on the drawing style and real validation masks went "not_wearing" / "incorrect" more often.
SYNTH_WEIGHT = 0.5
CLASSES = ("without_mask", "with_mask")  # the real photos' folders: label 0, label 1
INSIGHTFACE_WHEEL = "insightface-2.1-py3-none-any.whl"
# Synthetic masks per unmasked training face, and the head's class for each placement.
SYNTH_PLAN = (("correct",), ("below_nose",), ("below_nose", "below_mouth"))
SYNTH_CLASS = {"correct": 1, "below_nose": 2, "below_mouth": 2}
# The API's answers in the order of the head's classes (real photos: 0 without, 1 with a mask).
ANSWERS = (MaskState.NOT_WEARING, MaskState.WEARING, MaskState.INCORRECT)


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


def insightface_wheel(folder: Path) -> Path:
    """The insightface 2.1 wheel (for its mask textures), downloaded once without dependencies."""
    wheel = folder / INSIGHTFACE_WHEEL
    if not wheel.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "insightface==2.1", "-d", str(folder)],
                       check=True)
    return wheel


def synthetic_crops(data: Path, names: list[str], sources: np.ndarray, wheel: Path,
                    cache: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Aligned crops of synthetic masks drawn on the real photos `sources` (indices into names):
    crops, head class (1 correct, 2 incorrect), source index, placement; cached like the real crops."""
    if cache is not None and cache.is_file():
        with np.load(cache) as c:
            return c["crops"], c["labels"], c["source"], [str(n) for n in c["placement"]]
    detector = YuNetDetector()
    textures = load_textures(wheel)
    rng = np.random.default_rng(SEED)
    crops, labels, source, placement = [], [], [], []
    for i in sources:
        img = cv2.imread(str(data / names[i]))
        faces = detector.detect(img)
        if not faces:
            continue
        for choices in SYNTH_PLAN:
            where = choices[rng.integers(len(choices))]
            drawn = draw_mask(img, faces[0].landmarks, where, rng, textures)
            found = detector.detect(drawn)
            if not found:
                continue
            crops.append(align_face(drawn, found[0].landmarks, 112))
            labels.append(SYNTH_CLASS[where])
            source.append(i)
            placement.append(where)
    result = np.array(crops), np.array(labels), np.array(source), placement
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, crops=result[0], labels=result[1], source=result[2], placement=np.array(placement))
    return result


def cut_crops(data: Path, names: list[str], sources: np.ndarray,
              cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Aligned crops of the photos `sources` cut off below the nose or mouth (mask_synth.cut_below),
    all "no mask", and their source indices; cached like the real crops."""
    if cache is not None and cache.is_file():
        with np.load(cache) as c:
            return c["crops"], c["source"]
    detector = YuNetDetector()
    rng = np.random.default_rng(SEED + 1)
    crops, source = [], []
    for i in sources:
        img = cv2.imread(str(data / names[i]))
        faces = detector.detect(img)
        if not faces:
            continue
        cut = cut_below(img, faces[0].landmarks, rng)
        found = detector.detect(cut)
        if found:
            crops.append(align_face(cut, found[0].landmarks, 112))
            source.append(i)
    result = np.array(crops), np.array(source)
    if cache is not None:
        np.savez(cache, crops=result[0], source=result[1])
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


def sample_weights(real_y: np.ndarray, synth_y: np.ndarray) -> np.ndarray:
    """Real photos balanced between their two classes; synthetic ones balanced between their three
    classes, and SYNTH_WEIGHT of the real photos' weight in all (mean weight 1 over both)."""
    real = (len(real_y) / (2 * np.bincount(real_y, minlength=2)))[real_y]
    synth = (SYNTH_WEIGHT * len(real_y) / (3 * np.bincount(synth_y, minlength=3)))[synth_y]
    w = np.concatenate([real, synth])
    return w / w.mean()


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, classes: int = 3) -> MaskHead:
    """Standardise, then a weighted, L2-regularised one-hidden-layer softmax classifier by full-batch Adam."""
    rng = np.random.default_rng(SEED)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-8
    z = ((x - mean) / scale).astype(np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    cw = weights.astype(np.float32)[:, None]
    p = {"w1": (rng.normal(0, 1, (x.shape[1], HIDDEN)) / np.sqrt(x.shape[1])).astype(np.float32),
         "b1": np.zeros(HIDDEN, np.float32),
         "w2": (rng.normal(0, 1, (HIDDEN, classes)) / np.sqrt(HIDDEN)).astype(np.float32),
         "b2": np.zeros(classes, np.float32)}
    m1 = {k: np.zeros_like(v) for k, v in p.items()}
    m2 = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(1, STEPS + 1):
        h = np.maximum(z @ p["w1"] + p["b1"], 0)
        logits = h @ p["w2"] + p["b2"]
        q = np.exp(logits - logits.max(axis=1, keepdims=True))
        q /= q.sum(axis=1, keepdims=True)
        g = cw * (q - onehot) / len(y)
        gh = (g @ p["w2"].T) * (h > 0)
        grads = {"w1": z.T @ gh + L2 * p["w1"], "b1": gh.sum(axis=0), "w2": h.T @ g + L2 * p["w2"], "b2": g.sum(axis=0)}
        for k, grad in grads.items():
            m1[k] = 0.9 * m1[k] + 0.1 * grad
            m2[k] = 0.999 * m2[k] + 0.001 * grad * grad
            p[k] -= LEARNING_RATE * (m1[k] / (1 - 0.9**t)) / (np.sqrt(m2[k] / (1 - 0.999**t)) + 1e-8)
    return MaskHead(mean, scale, p["w1"], p["b1"], p["w2"], p["b2"])


def answers_of(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The product's decision (0 no mask, 1 wearing, 2 incorrect) and P(mask worn), per row of
    class probabilities."""
    decided = [decide(p) for p in probabilities]
    return np.array([ANSWERS.index(m.state) for m in decided]), np.array([m.score for m in decided])


def answers(head: MaskHead, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`answers_of` the head's probabilities for feature rows x."""
    return answers_of(head.probabilities(x))


def report(y: np.ndarray, pred: np.ndarray, title: str) -> list[str]:
    present = [k for k in range(3) if np.any(y == k)]
    lines = [f"{title}: n={len(y)} accuracy={np.mean(pred == y):.4f}"]
    for k in present:
        tp = int(np.sum((pred == k) & (y == k)))
        lines.append(f"  {HEAD_CLASSES[k]:<15} precision={tp / max(int(np.sum(pred == k)), 1):.4f} "
                     f"recall={tp / max(int(np.sum(y == k)), 1):.4f} support={int(np.sum(y == k))}")
    lines.append(f"  confusion (rows = true, cols = answered; {', '.join(a.value for a in ANSWERS)}):")
    for k in present:
        row = [int(np.sum((y == k) & (pred == j))) for j in range(3)]
        lines.append(f"    {HEAD_CLASSES[k]:<15} {row[0]:>5} {row[1]:>5} {row[2]:>5}")
    return lines


def record_in_manifest(path: Path, model: str = HEAD_MODEL) -> str:
    """Write a newly trained model file's sha256 and size into the model manifest (the product
    verifies both)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    for item in manifest["models"]:
        if item["name"] == model and item["file"] == path.name:
            item["sha256"], item["bytes"] = digest, path.stat().st_size
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return digest


def placement_lines(where: np.ndarray, answered: np.ndarray) -> list[str]:
    """How the synthetic faces of each placement were answered (no mask / wearing / incorrect)."""
    return [f"  synthetic {place}: n={int(np.sum(where == place))} answered {'/'.join(a.value for a in ANSWERS)} = "
            f"{[int(np.sum((where == place) & (answered == k))) for k in range(3)]}"
            for place in ("cut_below", "correct", "below_nose", "below_mouth")]


def write_report(lines: list[str], out: Path, model: str) -> None:
    """Record the model file just written in the manifest, print the report and keep it beside the
    file as <stem>_eval.txt."""
    lines.append(f"wrote {out.name}: {out.stat().st_size} bytes sha256={record_in_manifest(out, model)}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (out.parent / f"{out.stem}_eval.txt").write_text(text)


@dataclass
class MaskData:
    """Every training and validation face: the real photos' aligned crops (label 0 no mask, 1 mask)
    split stratified, and the synthetic faces (class 0 cut off, 1 correct, 2 incorrect) on the side
    of the split of the photo they were drawn on."""

    crops: np.ndarray
    y: np.ndarray
    detected: np.ndarray
    names: list[str]
    train: np.ndarray
    val: np.ndarray
    s_crops: np.ndarray
    s_y: np.ndarray
    s_where: np.ndarray
    s_train: np.ndarray
    n_cut: int
    seconds: float


def mask_data(data: Path, cache: Path) -> MaskData:
    """The real photos and the synthetic faces, split (the crops cached in `cache`)."""
    started = time.perf_counter()
    crops, y, detected, names = aligned_crops(data, cache / "mask_crops.npz")
    train, val = stratified_split(y, SEED)
    unmasked = np.where(y == 0)[0]
    s_crops, s_y, s_source, s_where = synthetic_crops(data, names, unmasked, insightface_wheel(cache),
                                                      cache / "mask_synth_crops.npz")
    cut, cut_source = cut_crops(data, names, unmasked, cache / "mask_cut_crops.npz")
    seconds = time.perf_counter() - started
    # The cut-off faces join the synthetic set as "no mask".
    s_crops = np.concatenate([s_crops, cut])
    s_y = np.concatenate([s_y, np.zeros(len(cut), int)])
    s_source = np.concatenate([s_source, cut_source])
    s_where = np.array(list(s_where) + ["cut_below"] * len(cut))
    return MaskData(crops, y, detected, names, train, val, s_crops, s_y, s_where, np.isin(s_source, train),
                    len(cut), seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "mask")
    parser.add_argument("--out", type=Path, default=MODELS_DIR / "mask_head.npz")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache",
                        help="folder for the aligned crops caches and the insightface wheel (delete the "
                             "caches after changing the detector, alignment or mask_synth)")
    args = parser.parse_args()

    d = mask_data(args.data, args.cache)
    crops, y, detected, names, train, val = d.crops, d.y, d.detected, d.names, d.train, d.val
    s_crops, s_y, s_where, s_train, crops_s, n_cut = d.s_crops, d.s_y, d.s_where, d.s_train, d.seconds, d.n_cut

    started = time.perf_counter()
    x = np.array([mask_features(crop) for crop in crops])
    sx = np.array([mask_features(crop) for crop in s_crops])
    features_ms = 1000 * (time.perf_counter() - started) / (len(x) + len(sx))
    started = time.perf_counter()
    # Mirrored training faces: the aligned template is left-right symmetric, and the mirror
    # copies made the head less eager to call small, blurred or turned faces masked.
    train_crops = np.concatenate([crops[train], s_crops[s_train]])
    train_y = np.concatenate([y[train], s_y[s_train]])
    mirrored = np.array([mask_features(np.ascontiguousarray(c[:, ::-1])) for c in train_crops])
    weights = sample_weights(y[train], s_y[s_train])
    head = fit(np.vstack([x[train], sx[s_train], mirrored]), np.concatenate([train_y, train_y]),
               np.concatenate([weights, weights]))
    fit_s = time.perf_counter() - started

    pred_train, _ = answers(head, np.vstack([x[train], sx[s_train]]))
    pred_val, score_val = answers(head, x[val])
    s_val = ~s_train
    pred_sval, _ = answers(head, sx[s_val])
    wrong = [f"    {names[i]} answered {ANSWERS[pred_val[k]].value} p(mask)={score_val[k]:.3f}"
             for k, i in enumerate(val) if pred_val[k] != y[i]]
    per_placement = placement_lines(s_where[s_val], pred_sval)

    lines = [
        "facegate mask head: 3 classes, one hidden layer on HOG + colour features of aligned faces (tools/train_mask.py)",
        f"data: {args.data.name}/ with_mask={int(y.sum())} without_mask={int(len(y) - y.sum())}; "
        f"no face detected (whole photo used): {int((~detected).sum())} "
        f"(with_mask {int((~detected & (y == 1)).sum())}, without_mask {int((~detected & (y == 0)).sum())})",
        f"synthetic (tools/mask_synth.py on the unmasked photos, insightface 2.1 textures + plain colours): "
        f"{len(s_y) - n_cut} faces still detected after drawing, of {len(SYNTH_PLAN)} per unmasked photo with a face; "
        + ", ".join(f"{w} {int(np.sum(s_where == w))}" for w in ("correct", "below_nose", "below_mouth"))
        + f"; unmasked photos cut off below the nose or mouth (no mask): {n_cut}",
        f"split: real photos stratified, seed {SEED}, validation {VAL_FRACTION:.0%}: train={len(train)} val={len(val)}; "
        f"synthetic follow their source photo: train={int(s_train.sum())} val={int(s_val.sum())}",
        f"training: {HIDDEN} hidden ReLU units, {STEPS} full-batch Adam steps, lr {LEARNING_RATE}, L2 {L2}, "
        f"balanced class weights, synthetic faces weigh {SYNTH_WEIGHT} of the real ones, training faces plus their mirror images; "
        f"answer \"incorrect\" when {INCORRECT_MARGIN}x likelier than \"correct\"",
        f"detection + alignment + drawing {crops_s:.0f} s (cached after the first run), features {features_ms:.2f} ms per face, "
        f"fit {fit_s:.1f} s; feature dimension {x.shape[1]}",
        *report(train_y, pred_train, "train (real + synthetic)"),
        *report(y[val], pred_val, "VALIDATION, real photos"),
        *report(y[val][detected[val]], pred_val[detected[val]], "validation, real photos, face detected"),
        *report(s_y[s_val], pred_sval, "VALIDATION, synthetic faces from held-back unmasked photos"),
        *per_placement,
        "validation errors (real photos):",
        *wrong,
    ]
    head.save(args.out, features="hog16_lower+hog16_full+lab_bands+hog8_nose+profile, align_face 112", hidden=str(HIDDEN),
              classes=",".join(HEAD_CLASSES), seed=str(SEED))
    write_report(lines, args.out, HEAD_MODEL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
