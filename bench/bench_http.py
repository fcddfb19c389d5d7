"""Served throughput and latency over HTTP, with signed clients, as a user's load would arrive.

Starts on loopback, from one temporary SQLite data dir: the face backend (`facegate backend`), a
Celery worker with beat (metrics hand-off and housekeeping, as `facegate serve` runs them), and in
turn each gateway server under test with the same process count — `waitress` (`facegate gateway`,
what `facegate serve` runs) and `gunicorn-sync` (the earlier serving: gunicorn sync workers). Then,
per gateway, API and concurrency, asyncio clients (aiohttp) send signed calls for `--duration`
seconds: req/s, p50/p95/p99 latency, calls that did not answer code "0", and the CPU each process
group used (cores = CPU seconds / wall seconds), the load generator's own included. `direct` rows
call the backend without the gateway (no signing, no quota): the gateway's overhead is the
difference.

usage: .venv/bin/python bench/bench_http.py [--duration 30] [--concurrency 1,8,64] [--apis detect,compare]
                                      [--gateways direct,waitress,gunicorn-sync] [--workers 2]
                                      [--baseline ../old-checkout --gateways direct,waitress@base,waitress]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from facegate.client import MillisecondClock, signed_request  # noqa: E402
from facegate.procs import admin_json, descendants, free_port, start, stop, wait_ok  # noqa: E402

PHOTOS = REPO.parent / "shared" / "data" / "photos"
PY = sys.executable
BASE = "@base"  # a gateway kind with this suffix runs the --baseline checkout's code
TICKS = os.sysconf("SC_CLK_TCK")


def detect_photo() -> bytes:
    """A 640x480 JPEG with one face: 009_C.jpg scaled to 480 px high, centred on grey."""
    face = cv2.imread(str(PHOTOS / "009_C.jpg"))
    scale = 480 / face.shape[0]
    face = cv2.resize(face, (round(face.shape[1] * scale), 480), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 128, np.uint8)
    left = (640 - face.shape[1]) // 2
    canvas[:, left:left + face.shape[1]] = face
    return cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def bodies() -> dict[str, bytes]:
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return {
        "detect": json.dumps({"imageContent": b64(detect_photo())}).encode(),
        "compare": json.dumps({"img1Base64": b64((PHOTOS / "007_B.jpg").read_bytes()),
                               "img2Base64": b64((PHOTOS / "008_B.jpg").read_bytes())}).encode(),
    }


# ---- CPU of process trees (from /proc) ---------------------------------------------------------

def cpu_seconds(root: int) -> float:
    """utime + stime of root and its descendants alive now (children's exited time included)."""
    total = 0
    for pid in [root, *descendants(root)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS


def own_cpu_seconds() -> float:
    """This process alone (the load generator), not the servers it started."""
    times = os.times()
    return times.user + times.system


# ---- load ---------------------------------------------------------------------------------------

@dataclass
class Result:
    gateway: str
    api: str
    concurrency: int
    latencies: list[float]
    errors: Counter  # code (or exception name) -> calls
    wall: float
    cpu: dict[str, float]


class Caller:
    """Builds one request: signed through the gateway, or straight to the backend."""

    def __init__(self, base: str, app: dict | None, token: str) -> None:
        self.base, self.app, self.token = base, app, token
        # Strictly increasing: the same body at the same timestamp has the same Sign, refused as a
        # replay (4004). Now plus a counter wrapping at 1000, as before, gave ~3 such 4004s per row.
        self.clock = MillisecondClock()

    def request(self, api: str, body: bytes) -> tuple[str, dict]:
        if self.app is None:
            return f"{self.base}/v1/{api}", {"X-Facegate-Token": self.token, "Content-Type": "application/json"}
        path, headers = signed_request(self.app["app_key"], self.app["app_secret"],
                                       self.app["service_codes"][api], api, body, self.clock.next())
        return self.base + path, headers


async def load(caller: Caller, api: str, body: bytes, concurrency: int, duration: float) -> tuple[list[float], Counter, float]:
    """(latencies in ms, the codes of the calls that did not answer "0" with their counts, seconds)."""
    latencies: list[float] = []
    errors: Counter = Counter()
    stop_at = time.monotonic() + duration
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def client() -> None:
            while time.monotonic() < stop_at:
                url, headers = caller.request(api, body)
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as reply:
                        code = (await reply.json(content_type=None)).get("code")
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                    code = type(exc).__name__
                latencies.append((time.perf_counter() - started) * 1000)
                if code != "0":
                    errors[str(code)] += 1
        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, errors, time.monotonic() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


# ---- the stack ----------------------------------------------------------------------------------

def gateway_argv(kind: str, port: int, workers: int) -> list[str]:
    kind = kind.removesuffix(BASE)
    if kind == "waitress":
        return [PY, "-m", "facegate.cli", "gateway", "--port", str(port), "--workers", str(workers)]
    if kind == "gunicorn-sync":
        return [PY, "-m", "gunicorn", "facegate.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
                str(workers), "--timeout", "60", "--no-control-socket"]
    raise ValueError(kind)


def bench_env(prefix: str, backend_urls: list[str], database_url: str = "") -> tuple[Path, dict[str, str]]:
    """A fresh data dir and the environment of a benchmark's stack: no rate limit to speak of, the
    given backends, SQLite in the data dir unless database_url names PostgreSQL, no Redis."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(FACEGATE_DATA_DIR=str(data), FACEGATE_DEFAULT_RATE_LIMIT="1000000",
               FACEGATE_BACKEND_URLS=",".join(backend_urls))
    if database_url:
        env["DATABASE_URL"] = database_url
    return data, env


def bench_app(env: dict[str, str], name: str, apis: list[str]) -> dict:
    """A new app (its key, secret and service codes) with ten million calls of each API."""
    app = admin_json(env, "create-app", "--name", name)
    for api in apis:
        admin_json(env, "grant", "--app", app["app_key"], "--api", api, "--calls", "10000000")
    return app


def run(args: argparse.Namespace) -> list[Result]:
    backend_port = free_port()
    data, env = bench_env("facegate-bench-http-", [f"http://127.0.0.1:{backend_port}"])
    app = bench_app(env, "benchhttp", args.apis)
    token = (data / "backend_token").read_text().strip()
    payloads = bodies()
    procs = {"backend": start([PY, "-m", "facegate.cli", "backend", "--port", str(backend_port)], env, data / "backend.log"),
             "worker": start([PY, "-m", "celery", "-A", "facegate.celery", "--quiet", "worker", "-B", "--concurrency", "1",
                              "--schedule", str(data / "beat")], env, data / "worker.log")}
    results: list[Result] = []
    try:
        wait_ok(f"http://127.0.0.1:{backend_port}/health", procs["backend"], data / "backend.log",
                headers={"X-Facegate-Token": token})
        for kind in args.gateways:
            if kind == "direct":
                caller, gateway = Caller(f"http://127.0.0.1:{backend_port}", None, token), None
            else:
                port = free_port()
                if kind.endswith(BASE) and not args.baseline:
                    raise SystemExit(f"gateway {kind} needs --baseline")
                gateway = start(gateway_argv(kind, port, args.workers), env, data / f"{kind}.log",
                                cwd=args.baseline if kind.endswith(BASE) else REPO)
                wait_ok(f"http://127.0.0.1:{port}/healthz", gateway, data / f"{kind}.log")
                caller = Caller(f"http://127.0.0.1:{port}", app, token)
            try:
                for api in args.apis:
                    asyncio.run(load(caller, api, payloads[api], 4, 2.0))  # warm: models, connections
                    for concurrency in args.concurrency:
                        roots = {**{name: proc.pid for name, proc in procs.items()},
                                 **({"gateway": gateway.pid} if gateway else {})}
                        before = {name: cpu_seconds(pid) for name, pid in roots.items()}
                        before["loadgen"] = own_cpu_seconds()
                        latencies, errors, wall = asyncio.run(load(caller, api, payloads[api], concurrency, args.duration))
                        cpu = {name: (cpu_seconds(pid) - before[name]) / wall for name, pid in roots.items()}
                        cpu["loadgen"] = (own_cpu_seconds() - before["loadgen"]) / wall
                        result = Result(kind, api, concurrency, latencies, errors, wall, cpu)
                        results.append(result)
                        print(row(result), flush=True)
            finally:
                if gateway is not None:
                    stop(gateway, timeout=30, group=False)
    finally:
        for proc in procs.values():
            stop(proc, timeout=30, group=False)
    return results


HEADER = ("| gateway | API | clients | calls | req/s | p50 ms | p95 ms | p99 ms | errors (codes) | "
          "CPU cores: gateway / backend / worker / load generator |\n|---|---|---|---|---|---|---|---|---|---|")


def row(r: Result) -> str:
    cpu = " / ".join(f"{r.cpu.get(name, 0.0):.2f}" if name in r.cpu else "–"
                     for name in ("gateway", "backend", "worker", "loadgen"))
    return (f"| {r.gateway} | {r.api} | {r.concurrency} | {len(r.latencies)} | {len(r.latencies) / r.wall:.1f} | "
            f"{pct(r.latencies, .5):.0f} | {pct(r.latencies, .95):.0f} | {pct(r.latencies, .99):.0f} | {errors_text(r.errors)} | {cpu} |")


def errors_text(errors: Counter) -> str:
    """"0", or the count and each failing code with its calls: "3 (4004: 2, 5000: 1)"."""
    total = sum(errors.values())
    return f"{total} ({', '.join(f'{code}: {n}' for code, n in errors.most_common())})" if total else "0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per row")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 64])
    parser.add_argument("--apis", type=lambda s: s.split(","), default=["detect", "compare"])
    parser.add_argument("--gateways", type=lambda s: s.split(","), default=["direct", "waitress", "gunicorn-sync"])
    parser.add_argument("--workers", type=int, default=2, help="gateway processes (facegate serve's default here)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of an older commit (git worktree add DIR COMMIT): gateways named "
                             f"KIND{BASE} (e.g. waitress{BASE}) run its code, against the same backend and database")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; duration {args.duration:g} s per row, {args.workers} gateway processes")
    print(HEADER, flush=True)
    run(args)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
