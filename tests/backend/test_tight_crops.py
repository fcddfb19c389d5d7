"""A face that fills the frame (ID photo, selfie, kiosk crop) is found at every small size."""
from __future__ import annotations

import cv2
import pytest


@pytest.mark.parametrize("stem", ["005_A", "009_C"])
def test_face_filling_the_frame_is_found(photos_dir, engine, read_bgr, stem):
    img = read_bgr(next(photos_dir.glob(f"{stem}*.jpg")))
    scale = min(1.0, 1600 / max(img.shape[:2]))
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x, y, w, h = engine.detect(img)[0].box
    crop = img[y : y + h, x : x + w]  # the detector's own box: the face fills the whole crop
    for side in (120, 160, 220):
        small = cv2.resize(crop, (side, round(side * h / w)), interpolation=cv2.INTER_AREA)
        faces = engine.detect(small)
        assert len(faces) == 1, (stem, side, faces)
        fw, fh = faces[0].box[2:]
        assert fw * fh >= 0.5 * small.shape[0] * small.shape[1], (stem, side, faces[0].box)
