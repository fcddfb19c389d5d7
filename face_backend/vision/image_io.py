"""Base64 image payloads to BGR arrays, with the wire protocol's size and format rules.

Rules (docs/DECISIONS.md "Image decoding"):
- whitespace/newlines (base64.encodebytes) and a `data:image/...;base64,` prefix are accepted;
  URL-safe alphabet too; missing '=' padding is tolerated.
- empty payload -> 4101; payload that is not base64 -> 4104 (it is not decodable as an image).
- more than MAX_IMAGE_BYTES decoded bytes -> 4103 (checked before any image decoding).
- anything OpenCV cannot decode (corrupted, truncated, empty, ico) -> 4104.
- more than MAX_PIXELS pixels (decompression bombs) -> 4104, checked from the header when the format
  is one we can parse cheaply (png, jpeg, gif, bmp, webp) and again after decoding.
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


class ImageError(Exception):
    """An image problem with its wire code (4101, 4103 or 4104)."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


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


def decode_image(data: bytes) -> np.ndarray:
    """BGR uint8 image (EXIF orientation applied, gray/alpha converted) or ImageError 4104."""
    size = header_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageError(errors.IMAGE_UNDECODABLE, f"image is {size[0]}x{size[1]}, over {MAX_PIXELS} pixels")
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


def image_from_base64(text: str) -> np.ndarray:
    """decode_base64 then decode_image."""
    return decode_image(decode_base64(text))
