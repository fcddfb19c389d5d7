"""Base64 image payloads to BGR arrays, with the wire protocol's size and format rules.

Rules (docs/DECISIONS.md "Image decoding"):
- whitespace/newlines (base64.encodebytes) and a `data:image/...;base64,` prefix are accepted;
  URL-safe alphabet too; missing '=' padding is tolerated.
- empty payload -> 4101; payload that is not base64 -> 4104 (it is not decodable as an image).
- more than MAX_IMAGE_BYTES decoded bytes -> 4103 (checked before any image decoding).
- anything OpenCV cannot decode (corrupted, truncated, empty, ico) -> 4104.
- more than MAX_PIXELS pixels (decompression bombs) -> 4104, checked from the header when the format
  is one we can parse cheaply (png, jpeg, gif, bmp, webp) and again after decoding.
- large JPEGs are decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, far cheaper than a full
  decode plus a resize) when the result keeps its long side >= REDUCED_MIN_LONG_SIDE; the array is
  then a ReducedImage that remembers the factor, and the engine answers in original pixels.
"""
from __future__ import annotations

import base64
import binascii
import re
import struct

import cv2
import numpy as np

from facegate import errors

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # the vendor's "2 MB", in decoded bytes
MAX_PIXELS = 40_000_000  # a 7360x4912 camera photo is 36 MP; a bomb is far larger
_DATA_URL = re.compile(r"^\s*data:[^,]{0,200};base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# Reduced JPEG decoding keeps at least this many pixels on the long side. The detector works at
# 1280 px (detector.TILE_LONG_SIDE), so anything >= 1280 leaves detection unchanged; the extra
# margin keeps the per-face crops (aligned 112 px for SFace and the mask head, 80 px liveness
# crops at 2.7-4x the box) at full detail for faces down to ~7% of the long side, and on the shared
# photos it keeps every reply's results equal to a full decode (3880x5184 -> 1/2, not 1/4).
REDUCED_MIN_LONG_SIDE = 1600
_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


class ImageError(Exception):
    """An image problem with its wire code (4101, 4103 or 4104)."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class ReducedImage(np.ndarray):
    """A BGR image decoded at 1/factor of its size; original_size is (width, height) after EXIF.

    A pixel edge at x in this array is at x * factor in the original (libjpeg's scaled decoding
    maps each factor x factor block of the original to one pixel). Views and results of numpy
    operations are plain-looking ReducedImages with factor 1, so only the array decode_image
    returned carries the scale; FaceEngine unwraps it with `reduction`.
    """

    factor: int = 1
    original_size: tuple[int, int] | None = None

    def __array_finalize__(self, obj: object) -> None:
        # Deliberately not inherited: a crop or a resized copy is no longer 1/factor of the photo.
        self.factor = 1
        self.original_size = None


def reduction(img: np.ndarray) -> tuple[np.ndarray, int, tuple[int, int]]:
    """(plain array, factor, original (width, height)) for any decoded image; factor 1 if not reduced."""
    if isinstance(img, ReducedImage) and img.factor > 1 and img.original_size is not None:
        return img.view(np.ndarray), img.factor, img.original_size
    return img, 1, (img.shape[1], img.shape[0])


def decode_base64(text: str) -> bytes:
    """The raw bytes of a base64 image field (see the module docstring for the accepted forms)."""
    text = _WHITESPACE.sub("", _DATA_URL.sub("", text, count=1))
    if not text:
        raise ImageError(errors.IMAGE_MISSING, "image is empty")
    # Quick size bound before decoding: 4 base64 chars carry 3 bytes.
    if len(text) // 4 * 3 > MAX_IMAGE_BYTES + 3:
        raise ImageError(errors.IMAGE_TOO_LARGE, f"image over {MAX_IMAGE_BYTES} bytes")
    text = text.translate(str.maketrans("-_", "+/"))
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(errors.IMAGE_UNDECODABLE, f"image is not valid base64: {exc}") from None
    if not raw:
        raise ImageError(errors.IMAGE_MISSING, "image is empty")
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageError(errors.IMAGE_TOO_LARGE, f"image is {len(raw)} bytes, over {MAX_IMAGE_BYTES}")
    return raw


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the file header for png/jpeg/gif/bmp/webp, None when unknown."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:2] == b"BM" and len(data) >= 26:
            width, height = struct.unpack("<ii", data[18:26])
            return abs(width), abs(height)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
        if data[:2] == b"\xff\xd8":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def decode_image(data: bytes, allow_reduced: bool = True) -> np.ndarray:
    """BGR uint8 image (EXIF orientation applied, gray/alpha converted) or ImageError 4104.

    allow_reduced=False forces a full-resolution decode of large JPEGs.
    """
    size = header_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageError(errors.IMAGE_UNDECODABLE, f"image is {size[0]}x{size[1]}, over {MAX_PIXELS} pixels")
    factor = _jpeg_factor(data, size) if allow_reduced else 1
    if factor > 1:
        reduced = _decode_reduced(data, factor, size)
        if reduced is not None:
            return reduced
    try:
        # IMREAD_COLOR applies the EXIF orientation and converts gray, alpha and 16-bit to 8-bit BGR.
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ImageError(errors.IMAGE_UNDECODABLE, f"image could not be decoded: {exc}") from None
    if img is None or img.ndim != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ImageError(errors.IMAGE_UNDECODABLE, "image could not be decoded (corrupted, truncated or unsupported format)")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise ImageError(errors.IMAGE_UNDECODABLE, f"image is over {MAX_PIXELS} pixels")
    return np.ascontiguousarray(img)


def _jpeg_factor(data: bytes, size: tuple[int, int] | None) -> int:
    """The largest of 2, 4, 8 that keeps a JPEG's long side >= REDUCED_MIN_LONG_SIDE, else 1."""
    if size is None or data[:2] != b"\xff\xd8":
        return 1
    long_side = max(size)
    for factor in (8, 4, 2):
        if -(-long_side // factor) >= REDUCED_MIN_LONG_SIDE:
            return factor
    return 1


def _decode_reduced(data: bytes, factor: int, size: tuple[int, int]) -> ReducedImage | None:
    """The JPEG decoded at 1/factor as a ReducedImage, or None to fall back to a full decode."""
    try:
        # The IMREAD_REDUCED_COLOR_* modes apply the EXIF orientation like IMREAD_COLOR does
        # (tests/backend/test_image_io.py checks it).
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _REDUCED_FLAGS[factor])
    except cv2.error:
        return None
    if img is None or img.ndim != 3:
        return None
    width, height = size
    # libjpeg rounds the scaled size up; EXIF orientation 5-8 swaps the axes after decoding.
    small_w, small_h = -(-width // factor), -(-height // factor)
    if img.shape[:2] == (small_h, small_w):
        original = (width, height)
    elif img.shape[:2] == (small_w, small_h):
        original = (height, width)
    else:  # a header that disagrees with the decoder: do not guess a scale
        return None
    out = np.ascontiguousarray(img).view(ReducedImage)
    out.factor = factor
    out.original_size = original
    return out


def image_from_base64(text: str, allow_reduced: bool = True) -> np.ndarray:
    """decode_base64 then decode_image."""
    return decode_image(decode_base64(text), allow_reduced)
