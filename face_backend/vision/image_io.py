"""Base64 image payloads to BGR arrays, with the wire protocol's size and format rules.

Rules (docs/DECISIONS.md "Image decoding"); each refusal is an ImageError subclass that
face_backend/api.py turns into its wire code:
- whitespace/newlines (base64.encodebytes) and a `data:image/...;base64,` prefix are accepted;
  URL-safe alphabet too; missing '=' padding is tolerated.
- empty payload -> ImageMissing; payload that is not base64 -> ImageUndecodable.
- more than MAX_IMAGE_BYTES decoded bytes -> ImageTooLarge (before any image decoding).
- only jpeg, png, gif, bmp, webp and tiff are decoded, and only when their header states a size
  of at most MAX_PIXELS (decompression bombs): every other format, a header whose size cannot be
  read, and anything OpenCV cannot decode (corrupted, truncated, empty, ico) -> ImageUndecodable.
  OpenCV is also capped at MAX_PIXELS (limits.limit_opencv), and at most `decode_slots` images
  (face_backend.config) are decoded at once per process, which bounds the decoders' memory.
- large JPEGs are decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, far cheaper than a full
  decode plus a resize) when the result keeps its long side >= REDUCED_MIN_LONG_SIDE; the array is
  then a ReducedImage that remembers the factor, and the engine answers in original pixels.
"""
from __future__ import annotations

import base64
import binascii
import re
import struct
import threading

import cv2
import numpy as np

from face_backend import config
from face_backend.vision.limits import MAX_IMAGE_BYTES, MAX_PIXELS
from face_backend.vision.runtime import Once

ACCEPTED_FORMATS = ("jpeg", "png", "gif", "bmp", "webp", "tiff")
# A progressive JPEG's decoding time grows with its scans (encoders write about 10); thousands
# of tiny scans in a small file make a CPU bomb.
MAX_JPEG_SCANS = 100
_DATA_URL = re.compile(r"^\s*data:[^,]{0,200};base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# What \s matches in ASCII text (other text always goes through the regex).
_WHITESPACE_CHARS = " \t\n\r\f\v\x1c\x1d\x1e\x1f"
_URL_SAFE = str.maketrans("-_", "+/")
# Reduced JPEG decoding keeps at least this many pixels on the long side. The detector works at
# 1280 px (detector.TILE_LONG_SIDE), so anything >= 1280 leaves detection unchanged; the extra
# margin keeps the per-face crops (aligned 112 px for SFace and the mask head, 80 px liveness
# crops at 2.7-4x the box) at full detail for faces down to ~7% of the long side, and on the shared
# photos it keeps every reply's results equal to a full decode (3880x5184 -> 1/2, not 1/4).
REDUCED_MIN_LONG_SIDE = 1600
_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


class ImageError(Exception):
    """Why an image payload is refused; the subclass is the reason, `details` says more."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


class ImageMissing(ImageError):
    """The payload is empty."""


class ImageTooLarge(ImageError):
    """Over MAX_IMAGE_BYTES once base64-decoded."""


class ImageUndecodable(ImageError):
    """Not base64, not an accepted format, a bomb, or not decodable."""


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
    # match() and a slice, and the whitespace regex only when there is whitespace: re.sub scans all
    # of a 2.7 MB field even for an anchored pattern, ~20 ms each on a large photo.
    prefix = _DATA_URL.match(text)
    if prefix:
        text = text[prefix.end():]
    if not text.isascii() or any(c in text for c in _WHITESPACE_CHARS):
        text = _WHITESPACE.sub("", text)
    if not text:
        raise ImageMissing("image is empty")
    # Quick size bound before decoding: 4 base64 chars carry 3 bytes.
    if len(text) // 4 * 3 > MAX_IMAGE_BYTES + 3:
        raise ImageTooLarge(f"image over {MAX_IMAGE_BYTES} bytes")
    if "-" in text or "_" in text:
        text = text.translate(_URL_SAFE)
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageUndecodable(f"image is not valid base64: {exc}") from None
    if not raw:
        raise ImageMissing("image is empty")
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"image is {len(raw)} bytes, over {MAX_IMAGE_BYTES}")
    return raw


def image_format(data: bytes) -> str | None:
    """The accepted format the data's signature names (as OpenCV recognises them), else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) stated by the header of an accepted format, None when it cannot be read."""
    reader = _SIZE_READERS.get(image_format(data) or "")
    try:
        return reader(data) if reader else None
    except (struct.error, IndexError, ValueError):
        return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    return struct.unpack(">II", data[16:24]) if data[12:16] == b"IHDR" else None


def _gif_size(data: bytes) -> tuple[int, int]:
    # The logical screen; OpenCV refuses frames that do not fit inside it.
    return struct.unpack("<HH", data[6:10])


def _bmp_size(data: bytes) -> tuple[int, int]:
    if struct.unpack("<I", data[14:18])[0] == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":  # the canvas, which every frame of an animation fits in
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


# Start-of-frame markers (the frame header holds the size): C0-CF except DHT, JPG and DAC.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM, RST0-7, SOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The first frame header's size, found the way libjpeg reads markers, or None.

    libjpeg skips junk before a marker (any bytes up to an 0xFF, fill 0xFFs, and 0xFF00), so a
    junk byte must not hide the frame header from us. A scan before any frame header, the end
    of the image or of the data first: None (libjpeg fails on those too).
    """
    pos, end = 2, len(data)
    while True:
        while pos < end and data[pos] != 0xFF:
            pos += 1
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            return None
        marker = data[pos]
        pos += 1
        if marker == 0x00 or marker in _STANDALONE:
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            return width, height
        if marker in (0xD9, 0xDA):  # EOI, SOS
            return None
        length = struct.unpack(">H", data[pos : pos + 2])[0]
        if length < 2:
            return None
        pos += length


def _tiff_tags(data: bytes) -> dict[int, int]:
    """The first value of each numeric tag of the first directory (the page OpenCV decodes)."""
    order = "<" if data[:2] == b"II" else ">"
    if data[2:4] in (b"+\x00", b"\x00+"):  # BigTIFF: 8-byte offsets and counts
        offset = struct.unpack(order + "Q", data[8:16])[0]
        count = struct.unpack(order + "Q", data[offset : offset + 8])[0]
        first, step, value_at = offset + 8, 20, 12
    else:
        offset = struct.unpack(order + "I", data[4:8])[0]
        count = struct.unpack(order + "H", data[offset : offset + 2])[0]
        first, step, value_at = offset + 2, 12, 8
    tags: dict[int, int] = {}
    for i in range(min(count, 4096)):
        at = first + i * step
        tag, kind = struct.unpack(order + "HH", data[at : at + 4])
        code = {3: "H", 4: "I", 16: "Q"}.get(kind)
        if code is not None and tag not in tags:
            tags[tag] = struct.unpack(order + code, data[at + value_at : at + value_at + struct.calcsize(code)])[0]
    return tags


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    tags = _tiff_tags(data)
    return (tags[256], tags[257]) if 256 in tags and 257 in tags else None


def tiff_buffer_pixels(data: bytes) -> int:
    """Pixels of the buffer OpenCV allocates for one tile (tiled) or one strip (width x rows per
    strip, as declared): a 16x16 image may declare 16384x16384 tiles."""
    tags = _tiff_tags(data)
    width, height = tags.get(256, 0), tags.get(257, 0)
    if 322 in tags or 323 in tags:
        return tags.get(322, width) * tags.get(323, height)
    rows = tags.get(278, 0)
    return width * (height if rows in (0, 0xFFFFFFFF) else rows)


_SIZE_READERS = {"png": _png_size, "gif": _gif_size, "bmp": _bmp_size, "webp": _webp_size,
                 "jpeg": _jpeg_size, "tiff": _tiff_size}


def jpeg_scans(data: bytes) -> int:
    """How many scans (SOS markers) a JPEG has: outside headers, 0xFF is always followed by 0x00
    or a restart marker in entropy-coded data, so counting the byte pair is exact enough."""
    return data.count(b"\xff\xda")


def _check_header(data: bytes) -> tuple[int, int]:
    """The image's (width, height) from its header, or ImageUndecodable for anything we will not
    decode: other formats, unreadable or empty sizes, bombs (in the image's size, in a JPEG's
    scans, in a TIFF's tiles or strips)."""
    fmt = image_format(data)
    if fmt is None:
        raise ImageUndecodable(f"not an accepted image format ({', '.join(ACCEPTED_FORMATS)})")
    size = header_size(data)
    if size is None or size[0] < 1 or size[1] < 1:
        raise ImageUndecodable(f"{fmt} header does not state a readable image size")
    if size[0] * size[1] > MAX_PIXELS:
        raise ImageUndecodable(f"image is {size[0]}x{size[1]}, over {MAX_PIXELS} pixels")
    if fmt == "jpeg" and jpeg_scans(data) > MAX_JPEG_SCANS:
        raise ImageUndecodable(f"jpeg has over {MAX_JPEG_SCANS} scans")
    if fmt == "tiff" and tiff_buffer_pixels(data) > MAX_PIXELS:
        raise ImageUndecodable(f"tiff tiles or strips are over {MAX_PIXELS} pixels")
    return size


# Decoders hold up to MAX_PIXELS x 4 bytes x 2 (16-bit, alpha) at once; this bounds how many run.
_DECODE_SLOTS: Once[threading.BoundedSemaphore] = Once(lambda: threading.BoundedSemaphore(config.get().decode_slots))


def decode_slots() -> threading.BoundedSemaphore:
    """The process's decode slots (FACEGATE_DECODE_SLOTS, fixed at the first decode)."""
    return _DECODE_SLOTS.get()


def _imdecode(data: bytes, flags: int) -> np.ndarray | None:
    """cv2.imdecode in one of the process's decode slots; None when OpenCV cannot decode."""
    with decode_slots():
        try:
            return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
        except cv2.error:
            return None


def decode_image(data: bytes, allow_reduced: bool = True) -> np.ndarray:
    """BGR uint8 image (EXIF orientation applied, gray/alpha converted) or ImageUndecodable.

    allow_reduced=False forces a full-resolution decode of large JPEGs.
    """
    size = _check_header(data)
    factor = _jpeg_factor(data, size) if allow_reduced else 1
    if factor > 1:
        reduced = _decode_reduced(data, factor, size)
        if reduced is not None:
            return reduced
    # IMREAD_COLOR applies the EXIF orientation and converts gray, alpha and 16-bit to 8-bit BGR.
    img = _imdecode(data, cv2.IMREAD_COLOR)
    if img is None or img.ndim != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ImageUndecodable("image could not be decoded (corrupted, truncated or unsupported format)")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise ImageUndecodable(f"image is over {MAX_PIXELS} pixels")
    return np.ascontiguousarray(img)


def _jpeg_factor(data: bytes, size: tuple[int, int]) -> int:
    """The largest of 2, 4, 8 that keeps a JPEG's long side >= REDUCED_MIN_LONG_SIDE, else 1."""
    if image_format(data) != "jpeg":
        return 1
    long_side = max(size)
    for factor in (8, 4, 2):
        if -(-long_side // factor) >= REDUCED_MIN_LONG_SIDE:
            return factor
    return 1


def _decode_reduced(data: bytes, factor: int, size: tuple[int, int]) -> ReducedImage | None:
    """The JPEG decoded at 1/factor as a ReducedImage, or None to fall back to a full decode."""
    # The IMREAD_REDUCED_COLOR_* modes apply the EXIF orientation like IMREAD_COLOR does
    # (tests/backend/test_image_io.py checks it).
    img = _imdecode(data, _REDUCED_FLAGS[factor])
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
