"""A second opinion on a face's five landmarks, for the recognizer and the age/gender chip.

A crop is only as exact as the five points it was warped with, and YuNet's are its weak part:
averaged with RetinaFace-mobilenet0.25's (the detectors' last resort, already loaded), the default
pack's models answer better. Measured (docs/DECISIONS.md, "Landmarks from two detectors"): SFace's
embeddings, TAR at FAR 1e-3 on the LFW pairs 98.3 → 98.7% and on the Chinese pairs 96.6 → 97.7%;
the age/gender chip, UTKFace gender 86.0 → 86.4% and age error 6.26 → 6.00 years. The mask crop
gained too little for its cost (MaskedFace-Net 96.0 → 96.8% for +18% CPU) and keeps YuNet's.
SCRFD's landmarks (insightface pack) are not helped: on the Chinese photos the mean lost 0.4 points
of TAR at FAR 1e-3, so that pack does not ask (packs.Pack.second_opinion).
"""
from __future__ import annotations

import numpy as np

from face_backend.vision.detector import _Detector
from face_backend.vision.types import Face

# The second detector looks at a square twice the face box's long side, centred on the face, shrunk
# so its side is this: the face is ~80 px there, inside RetinaFace's 64 and 128 px priors, and the
# run costs about 1.1 ms of CPU.
SECOND_OPINION_SIDE = 160
SECOND_OPINION_THRESHOLD = 0.5  # the face is known to be there: a weak detection still places points


def opinion_square(face: Face, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the square the second detector looks at: twice the face box's long side,
    centred on the box, clipped to an image of this shape (so not square at the borders)."""
    x, y, w, h = face.box
    cx, cy, half = x + w / 2, y + h / 2, max(w, h)
    return (max(0, int(cx - half)), max(0, int(cy - half)),
            min(shape[1], int(cx + half)), min(shape[0], int(cy + half)))


def second_opinion(img: np.ndarray, face: Face, second: _Detector) -> Face:
    """`face` with its landmarks averaged with those of `second`'s detection centred nearest `face`'s
    box centre, among those centred inside the box; `face` itself when there is none."""
    x, y, w, h = face.box
    x0, y0, x1, y1 = opinion_square(face, img.shape)
    if x1 <= x0 or y1 <= y0:
        return face
    found = second.look(img[y0:y1, x0:x1], SECOND_OPINION_SIDE, SECOND_OPINION_THRESHOLD)
    if not found:
        return face
    boxes = np.array([f[0] for f in found])
    # Candidate centres relative to the face box's centre; the candidates are raw, several per face:
    # of those centred inside the box, the one centred nearest the first detector's.
    offsets = (boxes[:, :2] + boxes[:, 2:]) / 2 - np.array([x + w / 2 - x0, y + h / 2 - y0])
    inside = np.flatnonzero(np.all(np.abs(offsets) <= np.array([w, h]) / 2, axis=1))
    if inside.size == 0:
        return face
    nearest = found[inside[np.argmin(np.hypot(offsets[inside, 0], offsets[inside, 1]))]]
    return Face(face.box, face.score, (face.landmarks + nearest[2] + np.array([x0, y0])) / 2)
