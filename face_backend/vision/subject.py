"""Which face a photo is of: the one compare uses when a photo shows more than one face.

The largest box alone picks a bystander who stands closer to the camera than the subject, or a
face half cut off at the frame's edge. A photographer frames the subject: large, near the centre
and sharp (a high detection score), so the subject is the face that is best on all three at once.
"""
from __future__ import annotations

import math

from face_backend.vision.types import Face

# How much a face at the frame's corner loses against the same face at the centre: 1 - CENTRE_WEIGHT.
CENTRE_WEIGHT = 0.5


def subject_rank(face: Face, largest_side: float, size: tuple[int, int]) -> float:
    """Relative face side x closeness to the image centre x detection score."""
    width, height = size
    x, y, w, h = face.box
    side = math.sqrt(max(w * h, 1)) / largest_side
    dx = (x + w / 2 - width / 2) / (width / 2)
    dy = (y + h / 2 - height / 2) / (height / 2)
    off_centre = min(1.0, math.hypot(dx, dy) / math.sqrt(2))
    return side * (1.0 - CENTRE_WEIGHT * off_centre) * float(face.score)


def subject_face(faces: list[Face], size: tuple[int, int]) -> Face:
    """The photo's subject among `faces` (not empty) of an image `size` = (width, height)."""
    largest_side = math.sqrt(max(max(f.area for f in faces), 1))
    return max(faces, key=lambda f: subject_rank(f, largest_side, size))
