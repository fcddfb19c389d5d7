"""The shared operating points (facegate.operating_points): each published score is the pack's
calibration of its cosine, and a compare score maps to the false accept rate band it reaches."""
from __future__ import annotations

from face_backend.vision.engine import FaceEngine
from facegate.operating_points import MEASURED, far_band


def test_published_scores_are_the_recognizers_calibration_of_the_cosines(engine: FaceEngine):
    for name, point in MEASURED[engine.pack.name].items():
        assert point.score == round(engine.recognizer.score(point.cosine), 4), name


def test_a_score_maps_to_the_smallest_far_it_reaches():
    points = MEASURED["default"]
    assert far_band(0.99, "default") == "1e-5"
    assert far_band(points["1e-5"].score, "default") == "1e-5"
    assert far_band(points["1e-5"].score - 1e-4, "default") == "1e-4"
    assert far_band(points["1e-3"].score, "default") == "1e-3"
    assert far_band(0.505, "default") == ""  # same person by the 0.5 rule, yet above 1e-3 of strangers
    assert far_band(0.99, "insightface") is None  # not measured: no claim
