"""Detect on a large photo: a ~2 MB 4000x3000 JPEG with one face, through the backend's request path.

The photo: ../shared/data/photos/004_A.jpg (one face, 3024x4032) scaled to 3000 px high, on a
4000x3000 canvas whose sides mirror the photo (real texture, so the JPEG is as large as a camera's),
saved at the highest JPEG quality that stays under the 2 MB limit. Each call is what the backend does
for a detect body: base64, the header checks, the decode (libjpeg's reduced decoding where the image
allows it), the detector's passes. Also timed: the decode alone, full-resolution and reduced.

usage: .venv/bin/python bench/large_photo.py [--repeat 30]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from face_backend.api import handle  # noqa: E402
from face_backend.vision.engine import get_engine  # noqa: E402
from face_backend.vision.image_io import decode_image  # noqa: E402
from face_backend.vision.limits import MAX_IMAGE_BYTES  # noqa: E402

PHOTO = REPO.parent / "shared" / "data" / "photos" / "004_A.jpg"


def large_jpeg() -> bytes:
    """4000x3000, one face, the largest JPEG under MAX_IMAGE_BYTES (quality stepped down from 98)."""
    face = cv2.imread(str(PHOTO))
    face = cv2.resize(face, (round(face.shape[1] * 3000 / face.shape[0]), 3000), interpolation=cv2.INTER_AREA)
    left = (4000 - face.shape[1]) // 2
    canvas = cv2.copyMakeBorder(face, 0, 0, left, 4000 - face.shape[1] - left, cv2.BORDER_REFLECT)
    for quality in range(98, 50, -2):
        data = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
        if len(data) <= MAX_IMAGE_BYTES:
            return data
    raise RuntimeError("could not make a JPEG under the limit")


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(p50 wall ms, p95 wall ms, mean CPU ms of this process) over `repeat` runs after one warm-up."""
    run()
    walls, cpu = [], time.process_time()
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        walls.append((time.perf_counter() - start) * 1000)
    ordered = sorted(walls)
    return statistics.median(walls), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], \
        (time.process_time() - cpu) * 1000 / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    data = large_jpeg()
    body = json.dumps({"imageContent": base64.b64encode(data).decode()}).encode()
    engine = get_engine()
    engine.warm_up()
    reply = handle("detect", body, "bench", engine)
    assert reply["code"] == "0", reply
    faces = reply["result"]["face_num"]
    size = np.frombuffer(data, np.uint8)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {len(data) / 1e6:.2f} MB 4000x3000 JPEG, {faces} face(s) found, "
          f"{args.repeat} runs each")
    print("| step | p50 ms | p95 ms | CPU ms per run |\n|---|---|---|---|")
    rows = [("detect, the backend's whole request path (base64, checks, decode, detector)",
             lambda: handle("detect", body, "bench", engine)),
            ("decode only, reduced as detect does", lambda: decode_image(data)),
            ("decode only, full resolution (what liveness gets)", lambda: decode_image(data, allow_reduced=False)),
            ("cv2.imdecode full resolution, no checks", lambda: cv2.imdecode(size, cv2.IMREAD_COLOR))]
    for label, run in rows:
        p50, p95, cpu = timed(run, args.repeat)
        print(f"| {label} | {p50:.0f} | {p95:.0f} | {cpu:.0f} |", flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
