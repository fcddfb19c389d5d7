"""A second opinion on a face's five landmarks, for the recognizer's alignment.

An embedding is only as exact as the alignment its crop was warped with, and YuNet's landmarks
are its weak part: averaged with RetinaFace-mobilenet0.25's (the detectors' last resort, already
loaded), the default pack's SFace embeddings separate people better. Measured over every pair of
the eval photos (docs/DECISIONS.md, "Landmarks for compare"): LFW TAR at FAR 1e-3 98.3 → 98.8%,
the Chinese photos' 2,327 same-person pairs at the API's threshold 93.9 → 94.4%. SCRFD's landmarks
(insightface pack) are not helped: on the Chinese photos the mean lost 0.4 points of TAR at FAR
1e-3, so that pack does not ask (packs.Pack.second_opinion).
"""
from __future__ import annotations

import numpy as np

from face_backend.vision.detector import _Detector
from face_backend.vision.types import Face

# The second detector looks at a square twice the face box's long side, centred on the face, shrunk
# so its side is this: the face is ~80 px there, inside RetinaFace's 64 and 128 px priors, and the
# run costs about 1.5 ms of CPU.
SECOND_OPINION_SIDE = 160
SECOND_OPINION_THRESHOLD = 0.5  # the face is known to be there: a weak detection still places points


def opinion_square(face: Face, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the square the second detector looks at: twice the face box's long side,
    centred on the box, clipped to an image of this shape (so not square at the borders)."""
    x, y, w, h = face.box
    cx, cy, half = x + w / 2, y + h / 2, max(w, h)
    return (max(0, int(cx - half)), max(0, int(cy - half)), min(shape[1], int(cx + half)), min(shape[0], int(cy + half)))


def second_opinion(img: np.ndarray, face: Face, second: _Detector) -> Face:
    """`face` with its landmarks averaged with those of `second`'s detection centred nearest `face`'s
    box centre, among those centred inside the box; `face` itself when there is none."""
    x, y, w, h = face.box
    x0, y0, x1, y1 = opinion_square(face, img.shape)
    if x1 <= x0 or y1 <= y0:
        return face
    centre = np.array([x + w / 2 - x0, y + h / 2 - y0])
    found = second.look(img[y0:y1, x0:x1], SECOND_OPINION_SIDE, SECOND_OPINION_THRESHOLD)
    inside = [f for f in found if np.all(np.abs((f[0][:2] + f[0][2:]) / 2 - centre) <= np.array([w, h]) / 2)]
    if not inside:
        return face
    # The candidates are raw, several per face: the one centred nearest the first detector's box.
    nearest = min(inside, key=lambda f: float(np.hypot(*((f[0][:2] + f[0][2:]) / 2 - centre))))
    return Face(face.box, face.score, (face.landmarks + nearest[2] + np.array([x0, y0])) / 2)
