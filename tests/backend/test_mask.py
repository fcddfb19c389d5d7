"""Mask head on real photos: three people in real masks (nsface p3.jpg) and unmasked faces."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from face_backend.vision.detector import YuNetDetector
from face_backend.vision.mask import MaskModel, mask_features
from face_backend.vision.types import Face

# Unmasked photos with clear faces (../shared/data/photos), and how many faces each has.
UNMASKED = {"000_5.jpg": 5, "007_B.jpg": 1, "009_C.jpg": 1, "013_4.jpg": 4}


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return YuNetDetector()


@pytest.fixture(scope="module")
def model() -> MaskModel:
    m = MaskModel()
    m.prepare()
    return m


def test_three_real_masks_are_seen(detector: YuNetDetector, model: MaskModel, masked_photo: Path) -> None:
    img = cv2.imread(str(masked_photo))
    faces = detector.detect(img)
    assert len(faces) == 3
    results = [model.predict(img, face) for face in faces]
    assert all(label == "wearing" and score > 0.9 for label, score in results), results


@pytest.mark.parametrize("name,count", UNMASKED.items())
def test_unmasked_faces_are_not_wearing(name: str, count: int, detector: YuNetDetector, model: MaskModel,
                                        shared_dir: Path) -> None:
    img = cv2.imread(str(shared_dir / "data" / "photos" / name))
    faces = detector.detect(img)
    assert len(faces) == count
    results = [model.predict(img, face) for face in faces]
    assert all(label == "not_wearing" and score < 0.3 for label, score in results), results


def test_score_is_probability_of_a_mask(detector: YuNetDetector, model: MaskModel,
                                                                       shared_dir: Path) -> None:
    img = cv2.imread(str(shared_dir / "data" / "photos" / "007_B.jpg"))
    label, score = model.predict(img, detector.detect(img)[0])
    assert label == "not_wearing" and score == pytest.approx(model.probability(img, detector.detect(img)[0]))
    # Degenerate input (a flat grey image, landmarks all at one point) still yields a probability.
    flat = np.full((50, 50, 3), 128, np.uint8)
    label, score = model.predict(flat, Face((0, 0, 10, 10), 0.5, np.zeros((5, 2))))
    assert label in ("wearing", "not_wearing") and 0.0 <= score <= 1.0


def test_features_and_info(model: MaskModel) -> None:
    assert mask_features(np.zeros((112, 112, 3), np.uint8)).shape == (1860,)
    info = model.info()
    assert info[0]["file"] == "mask_head.npz" and info[0]["loaded"] and "MIT" in info[0]["license"]
