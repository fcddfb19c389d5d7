"""Image payload rules: base64 forms, size limit, formats, corrupted files, decompression bombs."""
from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from facegate import errors
from face_backend.vision.image_io import MAX_IMAGE_BYTES, ImageError, decode_base64, decode_image, image_from_base64

GOOD = ["einstein.bmp", "einstein.gif", "einstein.jpeg", "einstein.png", "einstein.tiff", "einstein.webp"]
BAD = ["corrupted.png", "empty.png", "truncated.jpg", "einstein.ico"]


@pytest.fixture(scope="module")
def odd_dir(shared_dir):
    return shared_dir / "data" / "bad-and-odd-images"


@pytest.mark.parametrize("name", GOOD)
def test_supported_formats_decode_to_bgr(odd_dir, name):
    img = image_from_base64(base64.encodebytes((odd_dir / name).read_bytes()).decode())
    assert img.dtype == np.uint8 and img.shape == (256, 256, 3)


@pytest.mark.parametrize("name", BAD)
def test_broken_or_unsupported_files_are_4104(odd_dir, name):
    with pytest.raises(ImageError) as info:
        image_from_base64(base64.b64encode((odd_dir / name).read_bytes()).decode())
    assert info.value.code == errors.IMAGE_UNDECODABLE


def test_data_url_prefix_newlines_and_urlsafe_alphabet(odd_dir):
    raw = (odd_dir / "einstein.png").read_bytes()
    assert decode_base64("data:image/png;base64," + base64.encodebytes(raw).decode()) == raw
    assert decode_base64(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw


@pytest.mark.parametrize("text,code", [("", errors.IMAGE_MISSING), ("  \n", errors.IMAGE_MISSING),
                                       ("data:image/png;base64,", errors.IMAGE_MISSING),
                                       ("not base64 at all!", errors.IMAGE_UNDECODABLE)])
def test_empty_and_invalid_base64(text, code):
    with pytest.raises(ImageError) as info:
        decode_base64(text)
    assert info.value.code == code


def test_decoded_size_limit_is_4103():
    just_over = base64.b64encode(b"\0" * (MAX_IMAGE_BYTES + 1)).decode()
    with pytest.raises(ImageError) as info:
        decode_base64(just_over)
    assert info.value.code == errors.IMAGE_TOO_LARGE
    assert len(decode_base64(base64.b64encode(b"\1" * MAX_IMAGE_BYTES).decode())) == MAX_IMAGE_BYTES


def test_decompression_bomb_rejected_from_header():
    ok, png = cv2.imencode(".png", np.zeros((7000, 7000), dtype=np.uint8))
    assert ok and len(png) < MAX_IMAGE_BYTES  # small file, 49 megapixels
    with pytest.raises(ImageError) as info:
        decode_image(png.tobytes())
    assert info.value.code == errors.IMAGE_UNDECODABLE


def test_exif_orientation_applied_and_gray_becomes_bgr():
    img = np.zeros((10, 20, 3), np.uint8)
    jpeg = cv2.imencode(".jpg", img)[1].tobytes()
    # APP1 Exif segment with one IFD entry: Orientation (0x0112) = 6, "rotate 90 clockwise".
    tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
    app1 = b"Exif\x00\x00" + tiff
    rotated = jpeg[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + jpeg[2:]
    assert decode_image(rotated).shape == (20, 10, 3)
    gray = cv2.imencode(".png", np.zeros((8, 9), np.uint8))[1].tobytes()
    assert decode_image(gray).shape == (8, 9, 3)
