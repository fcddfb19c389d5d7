"""Single-image face liveness (anti-spoofing): the probability that a detected face is a live person.

Default: the Silent-Face MiniFASNet ensemble (minivision-ai, Apache-2.0), exported to ONNX by
tools/export_minifasnet.py and bundled in face_backend/models/, so it needs no download.
Optional (setting FACEGATE_LIVENESS_MODEL): hairymax's CelebA-Spoof MiniFASNetV2-SE models, fetched
through the model store; their repository states no licence, which info() says.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from face_backend import model_store
from face_backend.vision.runtime import Once, session

Box = tuple[int, int, int, int]


def silent_face_crop(img: np.ndarray, box: Box, scale: float, size: int) -> np.ndarray:
    """Silent-Face's CropImage: the box scaled around its centre, shifted (not padded) into the image.

    The scale shrinks when the scaled box would be larger than the image, exactly as upstream,
    because the models were trained on crops made this way.
    """
    src_h, src_w = img.shape[:2]
    x, y, w, h = (float(v) for v in box)
    w, h = max(w, 1.0), max(h, 1.0)
    scale = min((src_h - 1) / h, (src_w - 1) / w, scale)
    new_w, new_h = w * scale, h * scale
    cx, cy = x + w / 2, y + h / 2
    left, top, right, bottom = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if left < 0:
        right, left = right - left, 0.0
    if top < 0:
        bottom, top = bottom - top, 0.0
    if right > src_w - 1:
        left, right = left - (right - src_w + 1), src_w - 1.0
    if bottom > src_h - 1:
        top, bottom = top - (bottom - src_h + 1), src_h - 1.0
    left, top = max(int(left), 0), max(int(top), 0)
    crop = img[top : int(bottom) + 1, left : int(right) + 1]
    return cv2.resize(crop, (size, size))


def padded_square_crop(img: np.ndarray, box: Box, scale: float, size: int) -> np.ndarray:
    """Square of side scale × the box's longer side, centred on the box, black outside the image."""
    x, y, w, h = box
    side = max(int(round(max(w, h) * scale)), 1)
    left, top = int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2))
    square = np.zeros((side, side, 3), dtype=img.dtype)
    sx0, sy0 = max(left, 0), max(top, 0)
    sx1, sy1 = min(left + side, img.shape[1]), min(top + side, img.shape[0])
    if sx1 > sx0 and sy1 > sy0:
        square[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = img[sy0:sy1, sx0:sx1]
    return cv2.resize(square, (size, size))


def _bgr_0_255(crop: np.ndarray) -> np.ndarray:
    return crop.astype(np.float32).transpose(2, 0, 1)[None]


def _rgb_0_1(crop: np.ndarray) -> np.ndarray:
    return (cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


@dataclass(frozen=True)
class Member:
    """One network of an ensemble: its manifest name, crop, input encoding and live class."""

    model: str
    crop: Callable[[np.ndarray, Box, float, int], np.ndarray]
    scale: float
    size: int
    encode: Callable[[np.ndarray], np.ndarray]
    live_index: int
    outputs_probabilities: bool


# Choices for FACEGATE_LIVENESS_MODEL. Members' live probabilities are averaged.
CHOICES: dict[str, tuple[Member, ...]] = {
    "minifasnet": (
        Member("minifasnet-v2", silent_face_crop, 2.7, 80, _bgr_0_255, 1, True),
        Member("minifasnet-v1se", silent_face_crop, 4.0, 80, _bgr_0_255, 1, True),
    ),
    "antispoofing-bin": (
        Member("antispoofing-bin", padded_square_crop, 1.5, 128, _rgb_0_1, 0, False),
    ),
    "antispoofing-print-replay": (
        Member("antispoofing-print-replay", padded_square_crop, 1.5, 128, _rgb_0_1, 0, False),
    ),
}
DEFAULT_CHOICE = "minifasnet"


def configured_choice() -> str:
    choice = os.environ.get("FACEGATE_LIVENESS_MODEL", "").strip() or DEFAULT_CHOICE
    if choice not in CHOICES:
        raise ValueError(f"FACEGATE_LIVENESS_MODEL={choice!r}: choose one of {', '.join(CHOICES)}")
    return choice


class LivenessModel:
    """Loads its ONNX sessions once (prepare), then scores face boxes; safe to share across threads."""

    def __init__(self, choice: str | None = None) -> None:
        self.choice = choice or configured_choice()
        if self.choice not in CHOICES:
            raise ValueError(f"unknown liveness model {self.choice!r}: choose one of {', '.join(CHOICES)}")
        self.members = CHOICES[self.choice]
        self._sessions = Once(lambda: [session(model_store.resolve(m.model)) for m in self.members])

    @property
    def loaded(self) -> bool:
        return self._sessions.loaded

    def prepare(self) -> None:
        self._sessions.get()

    def get(self, img_bgr: np.ndarray, box: Box) -> float:
        """Probability in [0, 1] that the face in `box` (x, y, w, h, original pixels) is live."""
        scores = []
        for member, sess in zip(self.members, self._sessions.get()):
            blob = member.encode(member.crop(img_bgr, box, member.scale, member.size))
            out = sess.run(None, {sess.get_inputs()[0].name: blob})[0][0]
            probs = out if member.outputs_probabilities else _softmax(out)
            scores.append(float(probs[member.live_index]))
        return float(np.clip(np.mean(scores), 0.0, 1.0))

    def info(self) -> list[dict]:
        result = []
        for member in self.members:
            item = model_store.entry(member.model)
            result.append({
                "name": f"liveness {item.name}",
                "file": item.file,
                "license": item.license,
                "source": item.source or "",
                "loaded": self.loaded,
            })
        return result
