"""Face mask classifier: our own logistic-regression head on gradient and colour features of the aligned face.

The head (face_backend/models/mask_head.npz) is trained by tools/train_mask.py on ../shared/data/mask;
its validation figures are in face_backend/models/mask_head_eval.txt. Feature path, identical in
training and here: detector landmarks → align_face 112×112 → `mask_features` (HOG of the whole
face and of its lower half, plus Lab colour statistics of the eye, nose and mouth bands and their
differences) → standardise → linear → sigmoid = probability that a mask is worn.
SFace embeddings were tried first and reached only 88% validation accuracy: a recognizer is trained
to ignore occlusions, while a mask is exactly a change of texture and colour over mouth and nose.

`predict` returns (state, score) with score = P(mask worn) whatever the state, so clients can
threshold it themselves; the state is WEARING when the score >= 0.5, else NOT_WEARING.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from face_backend.vision.align import align_face
from face_backend.vision.runtime import ManifestModel
from face_backend.vision.types import Face, Mask, MaskState

HEAD_MODEL = "mask-head"
CROP = 112
HOG_CELL = 16
HOG_BINS = 9
# Rows of the 112×112 ArcFace-aligned crop (eyes at y≈51, nose tip ≈72, mouth ≈92).
LOWER_FACE = (slice(48, 112), slice(8, 104))
COLOUR_BANDS = ((slice(30, 55), slice(20, 92)), (slice(58, 78), slice(25, 87)), (slice(80, 108), slice(25, 87)))


def hog(gray: np.ndarray, cell: int = HOG_CELL, bins: int = HOG_BINS) -> np.ndarray:
    """Histogram of oriented gradients (unsigned, magnitude-weighted cells, L2-normalised 2×2 blocks).

    Written out because OpenCV 5 dropped cv2.HOGDescriptor from the main modules.
    """
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=1)
    magnitude = np.sqrt(gx * gx + gy * gy)
    orientation = np.minimum(((np.arctan2(gy, gx) % np.pi) / np.pi * bins).astype(int), bins - 1)
    rows, cols = g.shape[0] // cell, g.shape[1] // cell
    cell_y = np.minimum(np.arange(g.shape[0]) // cell, rows - 1)[:, None]
    cell_x = np.minimum(np.arange(g.shape[1]) // cell, cols - 1)[None, :]
    hist = np.zeros((rows, cols, bins), np.float32)
    np.add.at(hist, (np.broadcast_to(cell_y, g.shape), np.broadcast_to(cell_x, g.shape), orientation), magnitude)
    blocks = []
    for i in range(rows - 1):
        for j in range(cols - 1):
            v = hist[i : i + 2, j : j + 2].ravel()
            blocks.append(v / (np.linalg.norm(v) + 1e-6))
    return np.concatenate(blocks)


def colour_stats(crop_bgr: np.ndarray) -> np.ndarray:
    """Lab mean and std in the eye, nose and mouth bands, plus (nose - eyes) and (mouth - eyes) means.

    A mask makes the lower bands' colour unlike the skin around the eyes.
    """
    lab = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2Lab).astype(np.float32) / 100.0
    means, stats = [], []
    for rows, cols in COLOUR_BANDS:
        band = lab[rows, cols].reshape(-1, 3)
        means.append(band.mean(axis=0))
        stats += [band.mean(axis=0), band.std(axis=0)]
    return np.concatenate([*stats, means[2] - means[0], means[1] - means[0]])


def mask_features(crop_bgr: np.ndarray) -> np.ndarray:
    """The head's input for one aligned 112×112 BGR face crop."""
    gray = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    return np.concatenate([hog(gray[LOWER_FACE]), hog(gray), colour_stats(crop_bgr)]).astype(np.float64)


class MaskHead:
    """The trained linear head: standardisation, weights, bias (see tools/train_mask.py)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, weights: np.ndarray, bias: float) -> None:
        self.mean, self.scale, self.weights, self.bias = mean, scale, weights, float(bias)

    @classmethod
    def load(cls, path: Path) -> "MaskHead":
        with np.load(path) as data:
            return cls(data["mean"], data["scale"], data["weights"], float(data["bias"]))

    def save(self, path: Path, **metadata: str) -> None:
        np.savez(path, mean=self.mean, scale=self.scale, weights=self.weights, bias=np.float64(self.bias),
                 **{k: np.str_(v) for k, v in metadata.items()})

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(mask) for each row of (N, D) `mask_features`."""
        z = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class MaskModel(ManifestModel[MaskHead]):
    """The trained head; thread-safe, no ONNX session of its own (about 1 ms a face)."""

    name = "mask head (facegate: logistic regression on HOG + colour of the aligned face)"
    files = (HEAD_MODEL,)

    def _load(self, paths: list[Path]) -> MaskHead:
        return MaskHead.load(paths[0])

    def probability(self, img_bgr: np.ndarray, face: Face) -> float:
        """P(mask worn) for one detected face."""
        crop = align_face(img_bgr, face.landmarks, CROP)
        return float(self._loaded().probability(mask_features(crop)[None])[0])

    def predict(self, img_bgr: np.ndarray, face: Face) -> Mask:
        """WEARING when P(mask worn) >= 0.5, else NOT_WEARING, with that probability."""
        p = self.probability(img_bgr, face)
        return Mask(MaskState.WEARING if p >= 0.5 else MaskState.NOT_WEARING, p)
