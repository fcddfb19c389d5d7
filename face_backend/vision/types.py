"""Data types shared by the vision modules (detector, aligner, attribute/liveness/mask models)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Face:
    """One detected face, in integer pixels of the original image.

    box: (x, y, w, h) of the face rectangle.
    score: detector confidence in [0, 1].
    landmarks: float array of shape (5, 2), in YuNet's order: right eye, left eye, nose tip,
      right mouth corner, left mouth corner ("right" = the person's right, i.e. the image's left).
    """

    box: tuple[int, int, int, int]
    score: float
    landmarks: np.ndarray = field(repr=False)

    @property
    def area(self) -> int:
        return int(self.box[2]) * int(self.box[3])
