"""Single-image face liveness (anti-spoofing): the probability that a detected face is a live person.

The verdict rule (live, spoof, or unclear for small and blurred faces) is `verdict`; the API words it.
Default: the Silent-Face MiniFASNet ensemble (minivision-ai, Apache-2.0), exported to ONNX by
tools/export_minifasnet.py and bundled in face_backend/models/, so it needs no download.
Optional (setting FACEGATE_LIVENESS_MODEL): hairymax's CelebA-Spoof MiniFASNetV2-SE models, fetched
through the model store; their repository states no licence, which info() says.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
import onnxruntime as ort

from face_backend import config
from face_backend.vision.align import align_face
from face_backend.vision.runtime import ManifestModel
from face_backend.vision.types import Face, Liveness, LivenessVerdict

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

# A face is too unclear to judge when its box is smaller than this on its short side (in the
# photo's own pixels), or when the Laplacian variance of its 112x112 aligned crop (a sharpness
# measure) is below the limit.
MIN_SIDE = 40
MIN_SHARPNESS = 20.0  # blurred background faces in our photos measure 14-18, sharp ones 50+


def sharpness(img: np.ndarray, face: Face) -> float:
    """Variance of the Laplacian of the face's aligned 112x112 grey crop."""
    crop = cv2.cvtColor(align_face(img, face.landmarks, 112), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


def verdict(score: float, short_side: int, sharpness_value: float, threshold: float) -> LivenessVerdict:
    """The liveness rule: UNCLEAR for small or blurred faces, else LIVE at score >= `threshold`
    (setting FACEGATE_LIVENESS_THRESHOLD)."""
    if short_side < MIN_SIDE or sharpness_value < MIN_SHARPNESS:
        return LivenessVerdict.UNCLEAR
    return LivenessVerdict.LIVE if score >= threshold else LivenessVerdict.SPOOF


class LivenessModel(ManifestModel[list[ort.InferenceSession]]):
    """The configured ensemble (setting FACEGATE_LIVENESS_MODEL); safe to share across threads.

    An unknown choice fails prepare() and info() with ValueError, so only the liveness API fails.
    """

    name = "liveness"

    def __init__(self, choice: str | None = None, threshold: float | None = None) -> None:
        self.choice = choice or config.get().liveness_model
        self.threshold = config.get().liveness_threshold if threshold is None else threshold
        super().__init__()

    @property
    def members(self) -> tuple[Member, ...]:
        if self.choice not in CHOICES:
            raise ValueError(f"unknown liveness model {self.choice!r} (FACEGATE_LIVENESS_MODEL): "
                             f"choose one of {', '.join(CHOICES)}")
        return CHOICES[self.choice]

    @property
    def files(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(m.model for m in self.members)

    def score(self, img_bgr: np.ndarray, box: Box) -> float:
        """Probability in [0, 1] that the face in `box` (x, y, w, h, pixels of img) is live."""
        scores = []
        for member, sess in zip(self.members, self._loaded()):
            blob = member.encode(member.crop(img_bgr, box, member.scale, member.size))
            out = sess.run(None, {sess.get_inputs()[0].name: blob})[0][0]
            probs = out if member.outputs_probabilities else _softmax(out)
            scores.append(float(probs[member.live_index]))
        return float(np.clip(np.mean(scores), 0.0, 1.0))

    def predict(self, img_bgr: np.ndarray, face: Face, short_side: int | None = None) -> Liveness:
        """Verdict and live probability of one face. `short_side` is the face box's short side in
        the photo's own pixels when img is a reduced decode (the size rule is about the photo;
        sharpness is measured on the pixels the model sees)."""
        prob = self.score(img_bgr, face.box)
        side = min(face.box[2], face.box[3]) if short_side is None else short_side
        return Liveness(verdict(prob, side, sharpness(img_bgr, face), self.threshold), prob)
