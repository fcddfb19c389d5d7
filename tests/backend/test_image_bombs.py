"""Decompression bombs in every format: refused from the header within 100 ms, and a real backend
stays small and answers a normal detect while several arrive at once."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
import requests

import hostile_images
from face_backend.api import handle
from face_backend.vision.image_io import ImageUndecodable, decode_image, decode_slots, header_size
from facegate import errors

MB = 1024 * 1024


def _body(raw: bytes) -> bytes:
    return json.dumps({"imageContent": base64.b64encode(raw).decode()}).encode()


@pytest.mark.parametrize("name", sorted(hostile_images.ALL))
def test_bomb_is_4104_within_100ms(engine, name):
    raw = hostile_images.ALL[name]()
    assert len(raw) < 256 * 1024, len(raw)  # small files...
    started = time.perf_counter()
    reply = handle("detect", _body(raw), "t-bomb", engine)
    elapsed = time.perf_counter() - started
    assert reply["code"] == errors.IMAGE_UNDECODABLE, reply
    assert elapsed < 0.1, f"{name}: {elapsed * 1000:.0f} ms"


@pytest.mark.parametrize("name", ["jpeg-junk-before-sof", "tiff-ccitt-g4", "jpeg2000"])
def test_the_same_files_at_a_small_size_are_real_images(name):
    """The generators write files the decoders accept: at 64x64 OpenCV decodes each one, so the
    large versions are real bombs, not merely broken files."""
    raw = hostile_images.ALL[name](64, 64)
    img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape[:2] == (64, 64)


def test_header_sizes_are_read_as_the_decoders_read_them():
    assert header_size(hostile_images.jpeg_junk_before_sof(30000, 20000)) == (30000, 20000)
    assert header_size(hostile_images.tiff_ccitt_g4(30000, 20000)) == (30000, 20000)
    assert header_size(hostile_images.bmp_os2(65535, 300)) == (65535, 300)
    assert header_size(hostile_images.gif_screen(700, 800)) == (700, 800)
    assert header_size(hostile_images.webp_canvas(16384, 100)) == (16384, 100)
    # Accepted formats at a normal size still decode (the TIFF and the junk-byte JPEG included).
    assert decode_image(hostile_images.tiff_ccitt_g4(640, 480)).shape == (480, 640, 3)
    assert decode_image(hostile_images.jpeg_junk_before_sof(64, 48)).shape == (48, 64, 3)
    assert decode_image(hostile_images.tiff_huge_tile(40, 30, tile=64)).shape == (30, 40, 3)
    assert decode_image(hostile_images.tiff_tall_strip(40, 30, rows_per_strip=30)).shape == (30, 40, 3)
    with pytest.raises(ImageUndecodable, match="format"):
        decode_image(hostile_images.jpeg2000(64, 64))  # a format we do not decode


def test_decodes_wait_for_a_free_slot():
    """While every decode slot is taken, a decode waits; it runs as soon as one is free."""
    png = cv2.imencode(".png", np.zeros((40, 30, 3), np.uint8))[1].tobytes()
    slots = decode_slots()
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    assert taken >= 1
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(decode_image, png)
            time.sleep(0.3)
            assert not pending.done()
            slots.release()
            taken -= 1
            assert pending.result(timeout=10).shape == (40, 30, 3)
    finally:
        for _ in range(taken):
            slots.release()


def test_opencv_is_capped_in_the_backend_process():
    """Whatever a header parser might miss, OpenCV in a process that imported face_backend first
    refuses to allocate more than the pixel limit (a 7000x7000 PNG is 49 megapixels)."""
    code = ("import face_backend, cv2, numpy as np\n"
            "png = cv2.imencode('.png', np.zeros((7000, 7000), np.uint8))[1]\n"
            "try:\n    img = cv2.imdecode(png, cv2.IMREAD_COLOR)\nexcept cv2.error:\n    img = None\n"
            "print('refused' if img is None else 'decoded')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "refused", done.stderr[-500:]


def _rss(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def test_eight_bombs_at_once_keep_the_backend_small_and_responsive(live_backend, photos_dir, b64, body):
    pid = live_backend.proc.pid
    bombs = [_body(f()) for f in hostile_images.REPORTED.values()]
    normal = body(imageContent=b64((photos_dir / "011_3.jpg").read_bytes()))
    url = live_backend.url + "/v1/detect"

    def post(payload: bytes) -> tuple[dict, float]:
        started = time.monotonic()
        reply = requests.post(url, data=payload, headers=live_backend.headers, timeout=60)
        return reply.json(), time.monotonic() - started

    post(normal)  # the first detect after start-up may still load lazily: not what is measured
    with open(f"/proc/{pid}/clear_refs", "w") as handle_:
        handle_.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = _rss(pid, "VmRSS")
    with ThreadPoolExecutor(9) as pool:
        bomb_futures = [pool.submit(post, bombs[i % len(bombs)]) for i in range(8)]
        detect_future = pool.submit(post, normal)
        replies = [f.result() for f in bomb_futures]
        detect_reply, detect_seconds = detect_future.result()
    peak = _rss(pid, "VmHWM")
    print(f"\nbackend RSS before {before / MB:.0f} MB, peak during 8 bombs + 1 detect {peak / MB:.0f} MB; "
          f"bomb replies in {max(s for _, s in replies) * 1000:.0f} ms at most; detect {detect_seconds * 1000:.0f} ms")
    assert [r["code"] for r, _ in replies] == [errors.IMAGE_UNDECODABLE] * 8
    assert max(s for _, s in replies) < 2.0
    assert detect_reply["code"] == "0" and detect_reply["result"]["face_num"] == 3
    assert detect_seconds < 5.0
    assert peak < 600 * MB
