"""Data types shared by the vision modules (detector, aligner, attribute/liveness/mask models)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

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


class AgeGender(NamedTuple):
    """The attributes model's answer for one face."""

    gender: str  # "Male" or "Female"
    age: int  # years


class LivenessVerdict(enum.Enum):
    """The liveness rule's answer (face_backend.vision.liveness.verdict); the API words it."""

    LIVE = "live"
    SPOOF = "spoof"
    UNCLEAR = "unclear"  # face too small or too blurred to judge


class Liveness(NamedTuple):
    """The liveness model's answer for one face."""

    verdict: LivenessVerdict
    score: float  # probability that the face is live, whatever the verdict


class MaskState(str, enum.Enum):
    WEARING = "wearing"
    NOT_WEARING = "not_wearing"
    INCORRECT = "incorrect"  # a mask worn with the nose or the mouth uncovered


class Mask(NamedTuple):
    """The mask model's answer for one face."""

    state: MaskState
    score: float  # probability that a mask is worn (correctly or not), whatever the state
