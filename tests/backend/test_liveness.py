"""Liveness on real photos: one live face and two spoofs (a printed and a replayed face)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from face_backend import config
from face_backend.vision.detector import YuNetDetector
from face_backend.vision.liveness import (MIN_SHARPNESS, MIN_SIDE, LivenessModel, padded_square_crop, sharpness,
                                          silent_face_crop)
from face_backend.vision.types import LivenessVerdict

PHOTOS = {"live_1.jpg": True, "spoof_1.jpg": False, "spoof_2.jpg": False}


@pytest.fixture(scope="module")
def faces(shared_dir: Path) -> dict[str, tuple[np.ndarray, tuple[int, int, int, int]]]:
    detector = YuNetDetector()
    result = {}
    for name in PHOTOS:
        img = cv2.imread(str(shared_dir / "data" / "liveness" / name))
        found = detector.detect(img)
        assert len(found) == 1, name
        result[name] = (img, found[0].box)
    return result


@pytest.fixture(scope="module")
def default_model() -> LivenessModel:
    model = LivenessModel()
    model.prepare()
    return model


def test_default_is_the_license_clean_minifasnet_ensemble(default_model: LivenessModel) -> None:
    assert default_model.choice == "minifasnet"
    info = default_model.info()
    assert [i["file"] for i in info] == ["minifasnet_v2_2.7_80x80.onnx", "minifasnet_v1se_4.0_80x80.onnx"]
    assert all(i["license"] == "Apache-2.0" and i["loaded"] and "Silent-Face" in i["source"] for i in info)


def test_minifasnet_separates_live_from_spoof_with_margin(default_model: LivenessModel, faces: dict) -> None:
    scores = {name: default_model.score(img, box) for name, (img, box) in faces.items()}
    assert scores["live_1.jpg"] > 0.9, scores
    assert scores["spoof_1.jpg"] < 0.35 and scores["spoof_2.jpg"] < 0.1, scores


def test_optional_antispoofing_model_via_mirror(faces: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FACEGATE_LIVENESS_MODEL", "antispoofing-bin")
    model = LivenessModel()
    model.prepare()
    assert (tmp_path / "models" / "AntiSpoofing_bin_1.5_128.onnx").is_file()  # copied from the mirror
    assert "not cleared for commercial use" in model.info()[0]["license"]
    for name, (img, box) in faces.items():
        score = model.score(img, box)
        assert (score > 0.9) if PHOTOS[name] else (score < 0.1), (name, score)


def test_boxes_at_or_beyond_the_edges_still_score(default_model: LivenessModel, faces: dict) -> None:
    img, _ = faces["live_1.jpg"]
    h, w = img.shape[:2]
    for box in [(0, 0, 30, 30), (w - 20, h - 20, 40, 40), (-10, -10, w + 20, h + 20), (5, 5, 1, 1)]:
        assert 0.0 <= default_model.score(img, box) <= 1.0


def test_crops_have_the_model_input_size() -> None:
    img = np.full((60, 100, 3), 200, dtype=np.uint8)
    assert silent_face_crop(img, (10, 10, 30, 40), 4.0, 80).shape == (80, 80, 3)
    square = padded_square_crop(img, (80, 40, 30, 30), 1.5, 128)
    assert square.shape == (128, 128, 3) and square[-1, -1].sum() == 0  # black outside the image


def test_unknown_choice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGATE_LIVENESS_MODEL", "nonsense")
    model = LivenessModel()
    with pytest.raises(ValueError, match="minifasnet"):
        model.prepare()
    with pytest.raises(ValueError, match="antispoofing-bin"):
        model.info()


def test_verdict_rule_on_real_faces(default_model: LivenessModel, faces: dict) -> None:
    """Live, spoof, and unclear when the face is too small in the photo or too blurred."""
    detector = YuNetDetector()
    live_img, _ = faces["live_1.jpg"]
    (live_face,) = detector.detect(live_img)
    assert default_model.predict(live_img, live_face).verdict is LivenessVerdict.LIVE
    spoof_img, _ = faces["spoof_2.jpg"]
    (spoof_face,) = detector.detect(spoof_img)
    assert default_model.predict(spoof_img, spoof_face).verdict is LivenessVerdict.SPOOF
    # The same live face, stated as smaller than MIN_SIDE in the photo: unclear, score unchanged.
    small = default_model.predict(live_img, live_face, short_side=MIN_SIDE - 1)
    assert small.verdict is LivenessVerdict.UNCLEAR and small.score == pytest.approx(default_model.score(live_img, live_face.box))
    # Blurred until its sharpness is under the limit: unclear, whatever the score.
    blurred = cv2.GaussianBlur(live_img, (0, 0), 12)
    assert sharpness(blurred, live_face) < MIN_SHARPNESS <= sharpness(live_img, live_face)
    assert default_model.predict(blurred, live_face).verdict is LivenessVerdict.UNCLEAR


def test_threshold_setting_moves_the_verdict(faces: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """FACEGATE_LIVENESS_THRESHOLD: the same score, answered by the operator's threshold. The
    replayed face scores about 0.2: spoof at the default 0.5, live once the threshold is under it."""
    img, _ = faces["spoof_1.jpg"]
    (face,) = YuNetDetector().detect(img)
    default = LivenessModel()
    assert default.threshold == 0.5
    judged = default.predict(img, face)
    assert judged.verdict is LivenessVerdict.SPOOF and 0.05 < judged.score < 0.35
    monkeypatch.setenv("FACEGATE_LIVENESS_THRESHOLD", str(round(judged.score - 0.01, 4)))
    config.get.cache_clear()
    try:
        lenient = LivenessModel()
        assert lenient.threshold == pytest.approx(judged.score - 0.01, abs=1e-4)
        again = lenient.predict(img, face)
        assert again.verdict is LivenessVerdict.LIVE and again.score == pytest.approx(judged.score)
    finally:
        monkeypatch.delenv("FACEGATE_LIVENESS_THRESHOLD")
        config.get.cache_clear()
