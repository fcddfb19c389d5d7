"""How much NUAA's liveness verdict depends on the box the MiniFASNet crops are cut around.

The default pack crops around YuNet's box. Silent-Face's own pipeline crops around the most
confident box of a RetinaFace detector that sees the whole image shrunk to about 192x192 px
(its `AntiSpoofPredict.get_bbox`). This script scores every NUAA frame (decoded at full resolution,
as the liveness API does) with the crops cut around each of these boxes:

- yunet: the detector's box (what the API does);
- retinaface K/S: our RetinaFace's best-scored candidate centred inside YuNet's box, from one look
  at a square K times the box's long side around it, shrunk to S px (area or bilinear shrink);
- silent-face 192: RetinaFace's most confident box on the whole frame resized (bilinear) to an
  area of 192x192 px, as Silent-Face does.

For each it prints ACER at the API's threshold, the AUC of the scores (threshold-free), how many
live frames score within 0.1 of the threshold (the ones a few pixels of box can flip), and the
CPU the box costs per frame. Usage: .venv/bin/python bench/liveness_crops.py [--limit N]
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from face_backend.vision.engine import get_engine  # noqa: E402
from face_backend.vision.image_io import decode_image  # noqa: E402
from face_backend.vision.types import Face  # noqa: E402
from accuracy import liveness_errors, ordered_share  # noqa: E402

NUAA = ROOT.parent / "shared" / "data" / "eval" / "nuaa_antispoof"
Box = tuple[int, int, int, int]


def _xywh(box: np.ndarray) -> Box:
    x1, y1, x2, y2 = box
    return int(round(x1)), int(round(y1)), max(1, int(round(x2 - x1))), max(1, int(round(y2 - y1)))


def retinaface_box(second, img: np.ndarray, face: Face, factor: float, side: int, interp: int) -> Box | None:
    """Best-scored RetinaFace candidate centred inside the face box, from one look at a square
    `factor` times its long side, shrunk to `side` px with `interp`."""
    x, y, w, h = face.box
    cx, cy, half = x + w / 2, y + h / 2, factor * max(w, h) / 2
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(img.shape[1], int(cx + half)), min(img.shape[0], int(cy + half))
    square = img[y0:y1, x0:x1]
    scale = side / max(square.shape[:2])
    cw, ch = max(1, round(square.shape[1] * scale)), max(1, round(square.shape[0] * scale))
    canvas = np.zeros((-(-ch // 32) * 32, -(-cw // 32) * 32, 3), np.uint8)
    canvas[:ch, :cw] = cv2.resize(square, (cw, ch), interpolation=interp)
    boxes, scores, _ = second._run(canvas, 0.5)
    if not len(scores):
        return None
    boxes = boxes / np.array([cw / square.shape[1], ch / square.shape[0]] * 2) + np.array([x0, y0, x0, y0])
    offsets = (boxes[:, :2] + boxes[:, 2:]) / 2 - np.array([cx, cy])
    inside = np.flatnonzero(np.all(np.abs(offsets) <= np.array([w, h]) / 2, axis=1))
    return _xywh(boxes[inside[np.argmax(scores[inside])]]) if inside.size else None


def silent_face_box(second, img: np.ndarray, face: Face) -> Box | None:
    """RetinaFace's most confident box on the whole frame resized to an area of 192x192 (bilinear)."""
    h, w = img.shape[:2]
    ratio = w / h
    cw, ch = int(192 * math.sqrt(ratio)), int(192 / math.sqrt(ratio))
    canvas = np.zeros((-(-ch // 32) * 32, -(-cw // 32) * 32, 3), np.uint8)
    canvas[:ch, :cw] = cv2.resize(img, (cw, ch), interpolation=cv2.INTER_LINEAR)
    boxes, scores, _ = second._run(canvas, 0.5)
    return _xywh(boxes[np.argmax(scores)] / np.array([cw / w, ch / h] * 2)) if len(scores) else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="every k-th frame so that about N are scored")
    args = parser.parse_args()
    engine = get_engine("default")
    engine.warm_up()
    model, second = engine.liveness_model(), engine.models.second
    second.prepare()
    rows = list(csv.DictReader((NUAA / "labels.csv").open(newline="")))
    if args.limit:
        rows = rows[:: max(1, len(rows) // args.limit)]
    frames, faceless = [], 0
    for row in rows:
        img = np.asarray(decode_image((NUAA / row["path"]).read_bytes(), allow_reduced=False))
        faces = engine.detect(img)
        if faces:
            frames.append((img, faces[0], row["label"] == "live"))
        else:
            faceless += 1
    boxes: dict[str, Callable[[np.ndarray, Face], Box | None]] = {"yunet": lambda img, face: face.box}
    for factor, side in ((2.0, 160), (2.0, 128), (1.6, 128), (1.6, 96), (2.0, 320)):
        boxes[f"retinaface {factor:g}/{side}"] = (
            lambda img, face, f=factor, s=side: retinaface_box(second, img, face, f, s, cv2.INTER_AREA))
    boxes["retinaface 2/160 bilinear"] = lambda img, face: retinaface_box(second, img, face, 2.0, 160, cv2.INTER_LINEAR)
    boxes["silent-face 192"] = lambda img, face: silent_face_box(second, img, face)
    threshold = model.threshold
    print(f"NUAA frames: {len(frames)} ({sum(f[2] for f in frames)} live; {faceless} without a face, left out); "
          f"threshold {threshold}")
    print("| crop box | APCER | BPCER | ACER | AUC | live frames within 0.1 of the threshold | no box | box CPU ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, box_of in boxes.items():
        live, spoof, missing, cpu = [], [], 0, 0.0
        for img, face, is_live in frames:
            started = time.process_time()
            box = box_of(img, face)
            cpu += time.process_time() - started
            missing += box is None
            (live if is_live else spoof).append(model.score(img, face.box if box is None else box))
        lv, sp = np.array(live), np.array(spoof)
        errors = liveness_errors(lv, sp, threshold)
        auc = ordered_share(lv, sp)
        near = int(np.sum(np.abs(lv - threshold) < 0.1))
        print(f"| {name} | {errors['APCER']:.1%} | {errors['BPCER']:.1%} | {errors['ACER']:.1%} | {auc:.4f} | {near} | {missing} | "
              f"{1000 * cpu / len(frames):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
