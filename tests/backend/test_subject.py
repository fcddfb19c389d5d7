"""compare's subject choice: size together with closeness to the centre and detection score."""
from __future__ import annotations

import numpy as np

from face_backend.vision.subject import subject_face
from face_backend.vision.types import Face

SIZE = (800, 600)


def face(x: int, y: int, side: int, score: float = 0.9) -> Face:
    return Face((x, y, side, side), score, np.zeros((5, 2)))


def test_centred_subject_beats_a_slightly_larger_bystander_at_the_edge():
    bystander = face(0, 0, 240)
    subject = face(300, 200, 200)
    assert subject_face([bystander, subject], SIZE) is subject


def test_a_much_larger_face_wins_even_off_centre():
    large = face(20, 150, 400)
    small = face(370, 270, 60)
    assert subject_face([small, large], SIZE) is large


def test_a_confident_detection_beats_a_doubtful_one_of_the_same_size_and_place():
    doubtful = face(290, 200, 200, score=0.62)
    sure = face(310, 200, 200, score=0.95)
    assert subject_face([doubtful, sure], SIZE) is sure


def test_one_face_is_the_subject():
    only = face(0, 0, 10, score=0.6)
    assert subject_face([only], SIZE) is only
