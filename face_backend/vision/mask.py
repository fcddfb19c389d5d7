"""Face mask classifier: two 3-class models of our own over the aligned face, their answers averaged.

Classes: no mask, mask worn correctly (nose and mouth covered), mask worn incorrectly (nose or mouth
uncovered). The members: a head (one hidden layer, numpy) on gradient and colour features, and a
small CNN (ONNX, face_backend/models/mask_cnn.onnx, trained by tools/train_mask_cnn.py on the same
data and split, input `cnn_blob`, figures in mask_cnn_eval.txt).
The head (face_backend/models/mask_head.npz) is trained by tools/train_mask.py on
../shared/data/mask plus synthetic masks drawn onto its unmasked faces (tools/mask_synth.py: the
only source of "incorrect" examples); its validation figures are in face_backend/models/mask_head_eval.txt.
Feature path, identical in training and here: detector landmarks → align_face 112×112 →
`mask_features` (HOG of the whole face and of its lower half, a finer HOG of the nose-and-mouth
window, Lab colour statistics of the eye, nose and mouth bands, and a top-to-bottom colour profile
of the face's middle: where fabric replaces skin) → standardise → 128 ReLU units → softmax.
SFace embeddings were tried first and reached only 88% validation accuracy: a recognizer is trained
to ignore occlusions, while a mask is exactly a change of texture and colour over mouth and nose.

`predict` returns (state, score) with score = P(mask worn, correctly or not) whatever the state, so
clients can threshold it themselves; the state is NOT_WEARING when the score < 0.5, else INCORRECT
when "incorrect" is INCORRECT_MARGIN times likelier than "correct", else WEARING.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from face_backend.vision.align import align_face
from face_backend.vision.runtime import ManifestModel, session
from face_backend.vision.types import Face, Mask, MaskState

HEAD_MODEL = "mask-head"
CNN_MODEL = "mask-cnn"
CROP = 112
# The CNN sees the aligned crop shrunk to this: a mask's edge and fabric are plain at 64 px, and a
# 64x64 input keeps the network at ~0.6 ms a face (112x112 would cost three times as much).
CNN_SIDE = 64
HOG_CELL = 16
HOG_BINS = 9
# Rows of the 112×112 ArcFace-aligned crop (eyes at y≈51, nose tip ≈72, mouth ≈92).
LOWER_FACE = (slice(48, 112), slice(8, 104))
COLOUR_BANDS = ((slice(30, 55), slice(20, 92)), (slice(58, 78), slice(25, 87)), (slice(80, 108), slice(25, 87)))
# Nose and mouth at finer HOG cells: a mask's top edge under the nose tip or over it.
NOSE_WINDOW = (slice(52, 100), slice(32, 80))
NOSE_CELL = 8
# The middle of the face from the eyes down, in strips of PROFILE_STEP rows: where fabric starts.
PROFILE = (slice(36, 112), slice(36, 76))
PROFILE_STEP = 4
CLASSES = ("without_mask", "mask_correct", "mask_incorrect")  # the head's outputs, in order
# "incorrect" only when it is this many times likelier than "correct": the smallest margin of at least
# 1 that keeps >= 97% of our own validation masks (real and drawn, tools/train_mask.py) "wearing";
# the current head needs none (98.5% real, 97.6% drawn), an earlier linear head needed 1.5.
INCORRECT_MARGIN = 1.0


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


def vertical_profile(crop_bgr: np.ndarray) -> np.ndarray:
    """Lab mean and grey std of each strip of the face's middle, minus the top strip's mean.

    Relative to the skin between the eyes, so that the row where a mask starts shows whatever
    the skin's colour; the std tells fabric (smooth) from a nose or lips (edges).
    """
    region = crop_bgr[PROFILE]
    lab = cv2.cvtColor(region, cv2.COLOR_BGR2Lab).astype(np.float32) / 100.0
    gray = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY).astype(np.float32) / 100.0
    n = region.shape[0] // PROFILE_STEP
    means = lab[: n * PROFILE_STEP].reshape(n, PROFILE_STEP, -1, 3).mean(axis=(1, 2))
    stds = gray[: n * PROFILE_STEP].reshape(n, -1).std(axis=1)
    return np.concatenate([(means - means[0]).ravel(), stds])


def mask_features(crop_bgr: np.ndarray) -> np.ndarray:
    """The head's input for one aligned 112×112 BGR face crop."""
    gray = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    return np.concatenate([hog(gray[LOWER_FACE]), hog(gray), colour_stats(crop_bgr),
                           hog(gray[NOSE_WINDOW], NOSE_CELL), vertical_profile(crop_bgr)]).astype(np.float64)


def cnn_blob(crop_bgr: np.ndarray) -> np.ndarray:
    """The mask CNN's input for one aligned 112x112 BGR crop: (1, 3, CNN_SIDE, CNN_SIDE) float32,
    BGR scaled to about -2..2 around mid-grey."""
    small = cv2.resize(crop_bgr, (CNN_SIDE, CNN_SIDE), interpolation=cv2.INTER_AREA)
    return ((small.astype(np.float32) - 127.5) / 64.0).transpose(2, 0, 1)[None].copy()


class MaskHead:
    """The trained head: standardisation, one hidden ReLU layer, softmax over CLASSES (tools/train_mask.py).

    A linear head on the same features told "below the nose or mouth" from "correct" in 84% of our
    own drawn validation faces; one hidden layer of 128 units in 89-92%, at the same real-photo accuracy.
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray, w1: np.ndarray, b1: np.ndarray,
                 w2: np.ndarray, b2: np.ndarray) -> None:
        self.mean, self.scale = mean.astype(np.float32), scale.astype(np.float32)
        self.w1, self.b1, self.w2, self.b2 = (np.asarray(v, np.float32) for v in (w1, b1, w2, b2))

    @classmethod
    def load(cls, path: Path) -> "MaskHead":
        with np.load(path) as data:
            return cls(*(data[k] for k in ("mean", "scale", "w1", "b1", "w2", "b2")))

    def save(self, path: Path, **metadata: str) -> None:
        np.savez(path, mean=self.mean, scale=self.scale, w1=self.w1, b1=self.b1, w2=self.w2, b2=self.b2,
                 **{k: np.str_(v) for k, v in metadata.items()})

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(N, 3) probabilities of CLASSES for each row of (N, D) `mask_features`."""
        z = ((features - self.mean) / self.scale).astype(np.float32)
        logits = np.maximum(z @ self.w1 + self.b1, 0) @ self.w2 + self.b2
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float64)


def decide(probabilities: np.ndarray) -> Mask:
    """The answer for one face's class probabilities: P(mask worn) = 1 - P(no mask) is the score."""
    score = float(1.0 - probabilities[0])
    if score < 0.5:
        return Mask(MaskState.NOT_WEARING, score)
    incorrect = probabilities[2] > INCORRECT_MARGIN * probabilities[1]
    return Mask(MaskState.INCORRECT if incorrect else MaskState.WEARING, score)


@dataclass(frozen=True)
class MaskNetworks:
    """The two members of the mask ensemble: the feature head and the CNN."""

    head: MaskHead
    cnn: ort.InferenceSession


def ensemble(head: np.ndarray, cnn: np.ndarray) -> np.ndarray:
    """The answer's class probabilities from the two members': their mean."""
    return (np.asarray(head, np.float64) + np.asarray(cnn, np.float64)) / 2


class MaskModel(ManifestModel[MaskNetworks]):
    """The feature head and the CNN, their class probabilities averaged; thread-safe (about 2 ms a face).

    On our own validation split (tools/train_mask_cnn.py, mask_cnn_eval.txt; crops of today's
    detector) each alone answered 98.3% of the held-back real photos right and the average 99.2%;
    on the held-back drawn masks the head 93.5%, the CNN 97.1%, the average 96.9%. The two err on
    different faces: the head reads gradients and colour statistics, the CNN shapes.
    """

    name = "mask"
    files = (HEAD_MODEL, CNN_MODEL)

    def _load(self, paths: list[Path]) -> MaskNetworks:
        return MaskNetworks(MaskHead.load(paths[0]), session(paths[1]))

    def member_probabilities(self, crop_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's class probabilities (head, CNN) for one aligned 112x112 face crop."""
        nets = self._loaded()
        head = nets.head.probabilities(mask_features(crop_bgr)[None])[0]
        cnn = nets.cnn.run(None, {nets.cnn.get_inputs()[0].name: cnn_blob(crop_bgr)})[0][0]
        return head, cnn.astype(np.float64)

    def probabilities(self, img_bgr: np.ndarray, face: Face) -> np.ndarray:
        """P(no mask), P(mask worn correctly), P(mask worn incorrectly) for one detected face."""
        return ensemble(*self.member_probabilities(align_face(img_bgr, face.landmarks, CROP)))

    def predict(self, img_bgr: np.ndarray, face: Face) -> Mask:
        """NOT_WEARING, WEARING or INCORRECT, with P(mask worn) (see `decide`)."""
        return decide(self.probabilities(img_bgr, face))
