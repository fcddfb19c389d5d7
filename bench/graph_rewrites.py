"""What the load-time graph rewrites (face_backend/vision/onnx_graph.py) buy, model by model.

Each model runs as shipped and as facegate loads it (rewritten), alternating in one run, on random
input of its own size, with 1 and 2 onnxruntime threads (no spinning, as the product). YuNet also
runs on the canvases the detector now uses for smaller images (free input size). Prints one
Markdown table: ms per run (median of the rounds), the ratio, and the largest output difference.

usage: .venv/bin/python bench/graph_rewrites.py [--rounds 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from face_backend import model_store  # noqa: E402
from face_backend.vision.onnx_graph import optimised  # noqa: E402
from face_backend.vision.runtime import session_options  # noqa: E402

# (manifest name, input side, free input size)
MODELS = (("sface", 112, False), ("arcface-w600k-mbf", 112, False), ("minifasnet-v2", 80, False),
          ("minifasnet-v1se", 80, False), ("yunet", 640, True))
YUNET_CANVASES = ((480, 480), (320, 320), (256, 256))


def session(model: bytes | str, threads: int) -> ort.InferenceSession:
    """A session with the product's options (runtime.session_options), on the CPU."""
    return ort.InferenceSession(model, sess_options=session_options(threads), providers=["CPUExecutionProvider"])


def timed(runs: list[tuple[ort.InferenceSession, dict]], rounds: int) -> list[float]:
    """Median ms per run of each (session, feed), alternating the sessions round by round."""
    for s, feed in runs:
        for _ in range(3):
            s.run(None, feed)
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for i, (s, feed) in enumerate(runs):
            start = time.perf_counter()
            s.run(None, feed)
            times[i].append(1000 * (time.perf_counter() - start))
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, onnxruntime "
          f"{ort.__version__}, load average {os.getloadavg()[0]:.1f}; median of {args.rounds} alternating rounds")
    print("| model | input | threads | as shipped, ms | rewritten, ms | ratio | largest output difference |")
    print("|---|---|---|---|---|---|---|")
    for name, side, free in MODELS:
        path = model_store.resolve(name)
        rewritten = optimised(path.read_bytes(), free)
        for threads in (1, 2):
            shipped, ours = session(str(path), threads), session(rewritten, threads)
            feed = {shipped.get_inputs()[0].name: rng.uniform(0, 255, (1, 3, side, side)).astype(np.float32)}
            diff = max(float(np.abs(a - b).max()) for a, b in zip(shipped.run(None, feed), ours.run(None, feed)))
            before, after = timed([(shipped, feed), (ours, feed)], args.rounds)
            print(f"| {name} | {side}x{side} | {threads} | {before:.2f} | {after:.2f} | {before / after:.2f}x | {diff:.1e} |")
        if name == "yunet":
            for threads in (1, 2):
                ours = session(rewritten, threads)
                feeds = [{"input": rng.uniform(0, 255, (1, 3, h, w)).astype(np.float32)} for h, w in YUNET_CANVASES]
                full = {"input": rng.uniform(0, 255, (1, 3, side, side)).astype(np.float32)}
                ms = timed([(ours, full)] + [(ours, f) for f in feeds], args.rounds)
                for (h, w), t in zip(YUNET_CANVASES, ms[1:]):
                    print(f"| yunet, free size | {w}x{h} | {threads} | {ms[0]:.2f} (640x640) | {t:.2f} | "
                          f"{ms[0] / t:.2f}x | – |")


if __name__ == "__main__":
    main()
