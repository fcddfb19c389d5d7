"""A face that fills the frame (ID photo, selfie, kiosk crop) is found at every small size."""
from __future__ import annotations

import cv2
import numpy as np
import pytest


def _photo_and_face(photos_dir, read_bgr, engine, stem: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """One of our photos, shrunk to at most 1600 px, and the box of its largest face."""
    img = read_bgr(next(photos_dir.glob(f"{stem}*.jpg")))
    scale = min(1.0, 1600 / max(img.shape[:2]))
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return img, engine.detect(img)[0].box


def _shrunk(crop: np.ndarray, width: int) -> np.ndarray:
    """The crop resized to `width` px wide, its aspect kept."""
    return cv2.resize(crop, (width, round(width * crop.shape[0] / crop.shape[1])), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("stem", ["005_A", "009_C"])
def test_face_filling_the_frame_is_found(photos_dir, engine, read_bgr, stem):
    img, (x, y, w, h) = _photo_and_face(photos_dir, read_bgr, engine, stem)
    crop = img[y : y + h, x : x + w]  # the detector's own box: the face fills the whole crop
    for side in (120, 160, 220):
        small = _shrunk(crop, side)
        faces = engine.detect(small)
        assert len(faces) == 1, (stem, side, faces)
        fw, fh = faces[0].box[2:]
        assert fw * fh >= 0.5 * small.shape[0] * small.shape[1], (stem, side, faces[0].box)


@pytest.mark.parametrize("stem", ["003_A", "005_A"])
def test_face_larger_than_the_photo_is_found(photos_dir, engine, read_bgr, stem, monkeypatch):
    """Only the middle half of the face (eyes to mouth) is in the photo: the face overflows the frame,
    as in selfies cut at the brow and chin. The 256 px large-face pass misses these; the 128 px one
    after it finds them."""
    from face_backend.vision import detector

    img, (x, y, w, h) = _photo_and_face(photos_dir, read_bgr, engine, stem)
    crop = img[y + h // 4 : y + h - h // 4, x + w // 4 : x + w - w // 4]
    for side in (100, 160, 220):
        small = _shrunk(crop, side)
        with monkeypatch.context() as only_256:
            only_256.setattr(detector, "LARGE_PASS_SIDES", (256,))
            assert engine.detect(small) == [], (stem, side)
        faces = engine.detect(small)
        assert len(faces) == 1, (stem, side, faces)
        fx, fy, fw, fh = faces[0].box
        assert fw >= 0.8 * small.shape[1] and fh >= 0.8 * small.shape[0], (stem, side, faces[0].box)


def test_the_128_px_pass_runs_only_after_the_256_px_pass_found_nothing(photos_dir, engine, read_bgr, monkeypatch):
    """A face the 256 px pass finds costs no 128 px run; a photo with no face costs both."""
    img, (x, y, w, h) = _photo_and_face(photos_dir, read_bgr, engine, "005_A")
    canvases: list[tuple[int, int]] = []
    run = type(engine.detector)._run
    monkeypatch.setattr(type(engine.detector), "_run",
                        lambda self, canvas, threshold: canvases.append(canvas.shape[:2]) or run(self, canvas, threshold))
    tight = _shrunk(img[y : y + h, x : x + w], 160)
    assert engine.detect(tight)
    assert max(max(c) for c in canvases) == 640 and min(max(c) for c in canvases) == 256, canvases
    canvases.clear()
    blank = np.full((160, 120, 3), 128, np.uint8)
    assert engine.detect(blank) == []
    assert sorted(max(c) for c in canvases) == [128, 256, 640], canvases
