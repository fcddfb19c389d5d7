"""Small files that declare huge images (decompression bombs), written byte by byte for the tests.

Each is a few hundred bytes to a few kB; decoded in full, each would take gigabytes.
"""
from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def jpeg_junk_before_sof(width: int = 30000, height: int = 30000) -> bytes:
    """An 8x8 baseline JPEG re-declared as width x height, with one junk byte before its frame
    header: libjpeg skips the byte (a warning) and decodes the whole frame."""
    jpeg = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8))[1].tobytes()
    sof = jpeg.index(b"\xff\xc0")
    frame = bytearray(jpeg[sof:])
    frame[5:9] = struct.pack(">HH", height, width)
    return jpeg[:sof] + b"\x00" + bytes(frame)


def _tiff(entries: list[tuple[int, int, int]], payload: bytes, payload_tag: int) -> bytes:
    """A little-endian TIFF with one directory of (tag, type, value) entries (3 = SHORT,
    4 = LONG) followed by one strip or tile; `payload_tag` (StripOffsets or TileOffsets) gets its
    offset."""
    payload_at = 8 + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in sorted(entries):
        value = payload_at if tag == payload_tag else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00\x00\x00\x00" + payload


def tiff_ccitt_g4(width: int = 30000, height: int = 30000) -> bytes:
    """A valid all-white bilevel TIFF, CCITT Group 4: every row is one 'vertical 0' code (1 bit)
    relative to the row above, so 30000 x 30000 pixels fit in under 4 kB."""
    rows = b"\xff" * (height // 8) + bytes([(0xFF << (8 - height % 8)) & 0xFF] if height % 8 else [])
    strip = rows + b"\x00\x10\x01"  # EOFB: two EOL codes (000000000001) after the rows' bits
    return _tiff([(256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 4), (262, 3, 0), (273, 4, 0),
                  (277, 3, 1), (278, 4, height), (279, 4, len(strip))], strip, 273)


def tiff_huge_tile(width: int = 16, height: int = 16, tile: int = 8192) -> bytes:
    """A small grey TIFF in one deflated tile of tile x tile: OpenCV allocates the tile (4 bytes
    a pixel, 268 MB for 8192) whatever the image's size."""
    data = zlib.compress(bytes(tile * tile), 9)
    return _tiff([(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 8), (262, 3, 1), (277, 3, 1),
                  (322, 4, tile), (323, 4, tile), (324, 4, 0), (325, 4, len(data))], data, 324)


def tiff_tall_strip(width: int = 14, height: int = 16, rows_per_strip: int = 1 << 24) -> bytes:
    """A small grey TIFF whose strip declares 2^24 rows: OpenCV sizes its buffer by that (940 MB
    as RGBA, just under its own 1 GB limit)."""
    data = zlib.compress(bytes(width * height), 9)
    return _tiff([(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 8), (262, 3, 1), (273, 4, 0),
                  (277, 3, 1), (278, 4, rows_per_strip), (279, 4, len(data))], data, 273)


def jpeg2000(width: int = 20000, height: int = 20000) -> bytes:
    """A 64x64 JPEG 2000 (JP2) whose image header and codestream size declare width x height."""
    jp2 = bytearray(cv2.imencode(".jp2", np.zeros((64, 64), np.uint8))[1].tobytes())
    ihdr = jp2.index(b"ihdr") + 4
    jp2[ihdr : ihdr + 8] = struct.pack(">II", height, width)
    siz = jp2.index(b"\xff\x51")
    jp2[siz + 6 : siz + 14] = struct.pack(">II", width, height)  # Xsiz, Ysiz
    jp2[siz + 22 : siz + 30] = struct.pack(">II", width, height)  # one tile
    return bytes(jp2)


def pgm(width: int = 40000, height: int = 40000) -> bytes:
    """A binary PGM header with a few bytes of pixels."""
    return f"P5\n{width} {height}\n255\n".encode() + b"\x00" * 64


def bmp_os2(width: int = 65535, height: int = 65535) -> bytes:
    """An OS/2 bitmap (12-byte core header, 16-bit sizes), 24 bits per pixel, almost no pixels."""
    pixels = b"\x00" * 64
    core = struct.pack("<IHHHH", 12, width, height, 1, 24)
    return b"BM" + struct.pack("<IHHI", 14 + len(core) + len(pixels), 0, 0, 14 + len(core)) + core + pixels


def gif_screen(width: int = 65535, height: int = 65535) -> bytes:
    """A GIF whose logical screen (and single frame) is width x height, with a few bytes of LZW."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame + b"\x3b"


def webp_canvas(width: int = 16384, height: int = 16384) -> bytes:
    """An extended WebP (VP8X) whose canvas is width x height, with no image data."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def jpeg_many_scans(scans: int = 2000) -> bytes:
    """A small JPEG followed by thousands of empty scans (each costs a pass over the image)."""
    jpeg = cv2.imencode(".jpg", np.zeros((64, 64), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    empty_scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return jpeg[:-2] + empty_scan * scans + b"\xff\xd9"


# The three files of the report (a 334-byte JPEG, a CCITT-G4 TIFF, a JPEG 2000), then more.
REPORTED = {"jpeg-junk-before-sof": jpeg_junk_before_sof, "tiff-ccitt-g4": tiff_ccitt_g4, "jpeg2000": jpeg2000}
ALL = {**REPORTED, "pgm": pgm, "bmp-os2": bmp_os2, "gif-screen": gif_screen, "webp-canvas": webp_canvas,
       "jpeg-many-scans": jpeg_many_scans, "tiff-huge-tile": tiff_huge_tile, "tiff-tall-strip": tiff_tall_strip}
