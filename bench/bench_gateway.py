"""Gateway overhead on this machine: `facegate serve` (SQLite, or DATABASE_URL) on loopback.

Measures (1) the gateway path alone — auth, replay cache, rate limit, quota attempt, metrics hand-off —
on calls that stop at 4291, sequential and with 16 concurrent clients; (2) detect on a small photo
through the gateway vs straight to the backend, sequential, i.e. what the gateway adds per call.

usage: .venv/bin/python bench/bench_gateway.py [--n 200] [--workers 3]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from facegate.client import signed_request  # noqa: E402
from facegate.procs import free_port  # noqa: E402

PHOTO = REPO.parent / "shared" / "data" / "photos" / "009_C.jpg"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="facegate-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "FACEGATE_BACKEND_URLS"}
    env.update(FACEGATE_DATA_DIR=str(data), FACEGATE_DEFAULT_RATE_LIMIT="100000")
    gw_port, be_port = free_port(), free_port()
    log = (data / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "facegate.cli", "serve", "--port", str(gw_port), "--backend-port",
                              str(be_port), "--workers", str(args.workers), "--no-worker"], env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        while b"facegate: ready" not in (data / "serve.log").read_bytes():
            if serve.poll() is not None:
                sys.exit((data / "serve.log").read_text())
            time.sleep(0.3)
        admin = [sys.executable, "-m", "facegate.cli", "admin"]
        app = json.loads(subprocess.check_output([*admin, "create-app", "--name", "benchapp", "--json"], env=env))
        subprocess.check_call([*admin, "grant", "--app", app["app_key"], "--api", "detect", "--calls", "100000"],
                              env=env, stdout=subprocess.DEVNULL)
        base, session = f"http://127.0.0.1:{gw_port}", requests.Session()
        counter = iter(range(10**9))

        def call(api: str, body: bytes) -> tuple[float, str]:
            ts = str(int(time.time() * 1000) + next(counter))  # unique Sign per call
            path, headers = signed_request(app["app_key"], app["app_secret"], app["service_codes"][api], api, body, ts)
            t0 = time.perf_counter()
            code = session.post(base + path, data=body, headers=headers).json()["code"]
            return (time.perf_counter() - t0) * 1000, code

        empty = b'{"img1Base64": "", "img2Base64": ""}'
        seq = [call("compare", empty) for _ in range(args.n)]
        assert {c for _, c in seq} == {"4291"}
        ms = [m for m, _ in seq]
        print(f"gateway path only (4291), sequential, n={args.n}: p50 {pct(ms, .5):.1f} ms, p95 {pct(ms, .95):.1f} ms")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: call("compare", empty), range(args.n)))
        rate = args.n / (time.perf_counter() - t0)
        print(f"gateway path only (4291), 16 concurrent clients, {args.workers} workers: {rate:.0f} calls/s")

        body = json.dumps({"imageContent": base64.encodebytes(PHOTO.read_bytes()).decode()}).encode()
        token = (data / "backend_token").read_text().strip()
        direct = []
        for _ in range(30):
            t0 = time.perf_counter()
            session.post(f"http://127.0.0.1:{be_port}/v1/detect", data=body, headers={"X-Facegate-Token": token})
            direct.append((time.perf_counter() - t0) * 1000)
        via = [call("detect", body) for _ in range(30)]
        assert {c for _, c in via} == {"0"}
        via_ms = [m for m, _ in via]
        print(f"detect 348x522 direct to backend: p50 {pct(direct, .5):.1f} ms; through gateway: p50 "
              f"{pct(via_ms, .5):.1f} ms (gateway adds ~{statistics.median(via_ms) - statistics.median(direct):.1f} ms)")
    finally:
        serve.terminate()
        serve.wait(timeout=30)


if __name__ == "__main__":
    main()
