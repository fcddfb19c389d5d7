"""Image payload rules: base64 forms, size limit, formats, corrupted files, decompression bombs."""
from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from face_backend.api import LIVENESS_TEXT, handle
from face_backend.vision.image_io import (MAX_IMAGE_BYTES, REDUCED_MIN_LONG_SIDE, ImageMissing, ImageTooLarge,
                                          ImageUndecodable, ReducedImage, decode_base64, decode_image, image_from_base64)

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
    with pytest.raises(ImageUndecodable):
        image_from_base64(base64.b64encode((odd_dir / name).read_bytes()).decode())


def test_data_url_prefix_newlines_and_urlsafe_alphabet(odd_dir):
    raw = (odd_dir / "einstein.png").read_bytes()
    assert decode_base64("data:image/png;base64," + base64.encodebytes(raw).decode()) == raw
    assert decode_base64(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw


@pytest.mark.parametrize("text,reason", [("", ImageMissing), ("  \n", ImageMissing),
                                         ("data:image/png;base64,", ImageMissing),
                                         ("not base64 at all!", ImageUndecodable)])
def test_empty_and_invalid_base64(text, reason):
    with pytest.raises(reason):
        decode_base64(text)


def test_decoded_size_limit_is_4103():
    just_over = base64.b64encode(b"\0" * (MAX_IMAGE_BYTES + 1)).decode()
    with pytest.raises(ImageTooLarge):
        decode_base64(just_over)
    assert len(decode_base64(base64.b64encode(b"\1" * MAX_IMAGE_BYTES).decode())) == MAX_IMAGE_BYTES


def test_decompression_bomb_rejected_from_header():
    ok, png = cv2.imencode(".png", np.zeros((7000, 7000), dtype=np.uint8))
    assert ok and len(png) < MAX_IMAGE_BYTES  # small file, 49 megapixels
    with pytest.raises(ImageUndecodable):
        decode_image(png.tobytes())


def _with_orientation_6(jpeg: bytes) -> bytes:
    """The JPEG with an APP1 Exif segment holding one IFD entry: Orientation (0x0112) = 6,
    "rotate 90 clockwise"."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + jpeg[2:]


def test_exif_orientation_applied_and_gray_becomes_bgr():
    img = np.zeros((10, 20, 3), np.uint8)
    rotated = _with_orientation_6(cv2.imencode(".jpg", img)[1].tobytes())
    assert decode_image(rotated).shape == (20, 10, 3)
    gray = cv2.imencode(".png", np.zeros((8, 9), np.uint8))[1].tobytes()
    assert decode_image(gray).shape == (8, 9, 3)


def test_large_jpeg_decoded_reduced_with_exif_orientation():
    # 4000x3400 with a white patch in the top-left corner; 1/2 keeps the long side >= the minimum.
    img = np.zeros((3400, 4000, 3), np.uint8)
    img[:100, :200] = 255
    jpeg = cv2.imencode(".jpg", img)[1].tobytes()
    plain = decode_image(jpeg)
    assert isinstance(plain, ReducedImage) and plain.factor == 2 and plain.original_size == (4000, 3400)
    assert plain.shape == (1700, 2000, 3)
    # The reduced modes honour EXIF orientation like IMREAD_COLOR: rotated 90 clockwise, the patch
    # ends up in the top-right corner and the original size is reported after rotation.
    rotated = decode_image(_with_orientation_6(jpeg))
    assert rotated.shape == (2000, 1700, 3) and rotated.factor == 2 and rotated.original_size == (3400, 4000)
    ys, xs = np.nonzero(rotated[:, :, 0] > 128)
    assert ys.max() * 2 == pytest.approx(199, abs=2) and xs.min() * 2 == pytest.approx(3400 - 100, abs=2)
    assert xs.max() == rotated.shape[1] - 1 and ys.min() == 0
    # Views (crops) of a reduced image are not themselves scaled copies of the photo.
    assert rotated[10:20, 10:20].factor == 1


def test_small_jpeg_and_other_formats_decode_at_full_size():
    big_png = cv2.imencode(".png", np.zeros((3400, 4000, 3), np.uint8))[1].tobytes()
    assert len(big_png) < MAX_IMAGE_BYTES
    png = decode_image(big_png)
    assert not isinstance(png, ReducedImage) and png.shape == (3400, 4000, 3)
    # Just under twice the minimum: 1/2 would drop below it, so the JPEG is decoded fully.
    side = 2 * REDUCED_MIN_LONG_SIDE - 2
    jpeg = decode_image(cv2.imencode(".jpg", np.zeros((100, side, 3), np.uint8))[1].tobytes())
    assert not isinstance(jpeg, ReducedImage) and jpeg.shape == (100, side, 3)


def test_reduced_decode_gives_original_pixel_faces(engine, photos_dir, read_bgr):
    """004_A.jpg (3024x4032, 1 face) decoded at 1/2: boxes and landmarks in original pixels,
    within a few pixels of detection on the full-resolution decode."""
    path = photos_dir / "004_A.jpg"
    reduced = decode_image(path.read_bytes())
    full = read_bgr(path)
    assert isinstance(reduced, ReducedImage) and reduced.factor == 2
    assert reduced.original_size == (full.shape[1], full.shape[0]) == (3024, 4032)
    got, want = engine.detect(reduced), engine.detect(full)
    assert len(got) == len(want) == 1
    assert np.abs(np.subtract(got[0].box, want[0].box)).max() <= 4, (got[0].box, want[0].box)
    assert np.abs(got[0].landmarks - want[0].landmarks).max() <= 4
    # The per-face models see the same face: same embedding direction, same age/gender.
    cosine = float(engine.embed(reduced, got[0]) @ engine.embed(full, want[0]))
    assert cosine > 0.95
    assert [a for _, a in engine.attributes(reduced)] == [a for _, a in engine.attributes(full)]


def test_liveness_api_decodes_large_jpegs_at_full_resolution(engine, photos_dir, read_bgr, body, b64):
    """Reduced decoding smooths the texture liveness judges; the API must score the full pixels."""
    path = photos_dir / "004_A.jpg"
    assert isinstance(decode_image(path.read_bytes()), ReducedImage)  # other APIs take the fast path
    reply = handle("liveness", body(imageContent=b64(path.read_bytes())), "t-live-full", engine)
    assert reply["code"] == "0", reply
    (face,) = reply["result"]["face_list"]
    (_, (verdict, prob)), = engine.liveness(read_bgr(path))
    assert face["liveness_score"] == round(prob, 4)
    assert face["FaceAntiSpoofing"] == LIVENESS_TEXT[verdict] == "活体人脸"
