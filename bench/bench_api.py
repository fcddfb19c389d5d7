"""Per-API latency of the face engine on this machine (through face_backend.api.handle, so
base64 + decoding + models, without HTTP). Prints a markdown table: p50/p95 ms per photo size, and
the CPU ms per call (all threads of this process: the figure that holds on a busy machine).

usage: .venv/bin/python bench/bench_api.py [--repeat 10] [--pack default] [--apis detect,compare]
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend.api import handle  # noqa: E402
from face_backend.vision.engine import get_engine  # noqa: E402

PHOTOS = REPO.parent / "shared" / "data" / "photos"
SIZES = [("small 348x522, 1 face", "009_C.jpg"), ("medium 800x533, 8 faces", "016_8.jpg"),
         ("large 3024x4032, 1 face", "004_A.jpg")]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pack", default="default")
    parser.add_argument("--apis", type=lambda v: v.split(","), default=["detect", "attributes", "liveness", "mask", "compare"])
    args = parser.parse_args()
    engine = get_engine(args.pack)
    engine.warm_up()
    print(f"pack: {args.pack}, repeat: {args.repeat}, load average at start: {os.getloadavg()[0]:.1f}\n")
    print("| API | photo | p50 ms | p95 ms | CPU ms | code |")
    print("|---|---|---|---|---|---|")
    for api in args.apis:
        missing = optional_model_missing(engine, api)
        if missing:
            print(f"| {api} | - | - | - | - | model not available: {missing[:80]} |")
            continue
        for label, name in SIZES:
            data = base64.encodebytes((PHOTOS / name).read_bytes()).decode()
            fields = {"img1Base64": data, "img2Base64": base64.encodebytes((PHOTOS / "008_B.jpg").read_bytes()).decode()} \
                if api == "compare" else {"imageContent": data}
            body = json.dumps(fields).encode()
            code = handle(api, body, "bench", engine)["code"]  # warm-up, and models of this API
            times, cpu = [], time.process_time()
            for _ in range(args.repeat):
                start = time.perf_counter()
                handle(api, body, "bench", engine)
                times.append((time.perf_counter() - start) * 1000)
            shown = label + (" vs 008_B" if api == "compare" else "")
            cpu_ms = (time.process_time() - cpu) * 1000 / args.repeat
            print(f"| {api} | {shown} | {statistics.median(times):.0f} | {percentile(times, 0.95):.0f} | {cpu_ms:.0f} | {code} |",
                  flush=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    return 0


def optional_model_missing(engine, api: str) -> str:
    """Why the liveness/mask model cannot load, or "" when it can (or the API needs none)."""
    loader = {"liveness": engine.liveness_model, "mask": engine.mask_model}.get(api)
    try:
        if loader:
            loader()
    except Exception as exc:  # the other module or its model file is not there yet
        return str(exc)
    return ""


if __name__ == "__main__":
    sys.exit(main())
