"""Face embeddings for 1:1 compare, and the calibrated similarity score.

Default pack: SFace (OpenCV Zoo, 128-d, Apache-2.0). insightface pack: ArcFace MobileFaceNet
(w600k_mbf, 512-d, non-commercial research license). Both take ArcFace-aligned 112x112 crops.
The cosine similarity is mapped through a logistic curve centred on the pack's decision threshold,
so that a score of 0.5 is the threshold and scores >= 0.5 mean "same person".
"""
from __future__ import annotations

import math

import numpy as np

from face_backend.vision.align import align_face
from face_backend.vision.runtime import OnnxModel
from face_backend.vision.types import Face


class _Recognizer(OnnxModel):
    threshold = 0.0  # cosine at which the calibrated score is 0.5
    steepness = 10.0  # logistic slope: how fast the score leaves 0.5 around the threshold

    def _blob(self, crop_bgr: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, img_bgr: np.ndarray, face: Face) -> np.ndarray:
        """L2-normalised embedding of one face."""
        self.prepare()
        crop = align_face(img_bgr, face.landmarks, 112)
        inp = self._session.get_inputs()[0].name
        vec = self._session.run(None, {inp: self._blob(crop)})[0][0].astype(np.float64)
        return vec / (np.linalg.norm(vec) + 1e-12)

    embed = predict

    def score(self, cosine: float) -> float:
        """Calibrated similarity in [0, 1]; 0.5 at the decision threshold."""
        return 1.0 / (1.0 + math.exp(-self.steepness * (cosine - self.threshold)))


class SFaceRecognizer(_Recognizer):
    name = "SFace face recognizer (2021dec)"
    files = ("sface",)
    threshold = 0.363  # SFace's published cosine threshold; it also separates our held-out pairs
    steepness = 10.0

    def _blob(self, crop_bgr: np.ndarray) -> np.ndarray:
        # OpenCV's FaceRecognizerSF: RGB, 0-255, no mean/scale.
        return crop_bgr[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32)


class ArcFaceRecognizer(_Recognizer):
    name = "ArcFace MobileFaceNet w600k_mbf (InsightFace)"
    files = ("arcface-w600k-mbf",)
    threshold = 0.30
    steepness = 12.0

    def _blob(self, crop_bgr: np.ndarray) -> np.ndarray:
        rgb = crop_bgr[:, :, ::-1].astype(np.float32)
        return ((rgb - 127.5) / 127.5).transpose(2, 0, 1)[None].copy()
