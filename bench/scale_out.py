"""Scale-out on one machine: 2 gateways x 2 face backends on PostgreSQL, clients spread over the gateways.

The deployment docker-compose.yml describes, as processes: two face backends (`facegate backend`),
two gateways (`facegate gateway`, one process each) that both forward to both backends (round-robin,
FACEGATE_BACKEND_URLS), one Celery worker with beat, and a new database on the PostgreSQL server of
--database-url. The front end is the load generator itself: its signed clients take the gateways in
turn, call by call (a round-robin balancer in front, without its own hop). Then the same rows as
bench_http.py, with the CPU of every part (PostgreSQL's server processes included) and what the
throughput model needs: CPU milliseconds per call across the whole stack, and req/s per core.

usage: .venv/bin/python bench/scale_out.py --database-url postgres://... [--duration 30]
                                           [--concurrency 8,64] [--apis detect,compare]   # `make bench`
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import (PY, Caller, bench_app, bench_env, bodies, cpu_seconds, errors_text, load,  # noqa: E402
                        own_cpu_seconds, pct)
from facegate.procs import free_port, start, stop, wait_ok  # noqa: E402
from soak import fresh_database  # noqa: E402

PARTS = ("gateways", "backends", "worker", "postgres", "loadgen")


class SpreadCaller(Caller):
    """Signed calls that go to each gateway in turn."""

    def __init__(self, bases: list[str], app: dict, token: str) -> None:
        super().__init__(bases[0], app, token)
        self.turn = itertools.cycle(bases)

    def request(self, api: str, body: bytes) -> tuple[str, dict]:
        self.base = next(self.turn)
        return super().request(api, body)


def postmaster_pid(database_url: str) -> int:
    """The PostgreSQL server's main process (its connections are its children)."""
    import psycopg
    with psycopg.connect(database_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server (any database on it)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per row")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[8, 64])
    parser.add_argument("--apis", type=lambda s: s.split(","), default=["detect", "compare"])
    args = parser.parse_args()
    backend_ports, gateway_ports = [free_port(), free_port()], [free_port(), free_port()]
    data, env = bench_env("facegate-scale-out-", [f"http://127.0.0.1:{p}" for p in backend_ports],
                          fresh_database(args.database_url))
    app = bench_app(env, "benchscale", args.apis)
    token = (data / "backend_token").read_text().strip()
    groups: dict[str, list] = {"backends": [], "gateways": [], "worker": []}
    try:
        for n, port in enumerate(backend_ports):
            groups["backends"].append(start([PY, "-m", "facegate.cli", "backend", "--port", str(port)], env,
                                            data / f"backend{n}.log"))
        for n, port in enumerate(gateway_ports):
            groups["gateways"].append(start([PY, "-m", "facegate.cli", "gateway", "--port", str(port), "--workers", "1"],
                                            env, data / f"gateway{n}.log"))
        groups["worker"].append(start([PY, "-m", "celery", "-A", "facegate.celery", "--quiet", "worker", "-B",
                                       "--concurrency", "1", "--schedule", str(data / "beat")], env, data / "worker.log"))
        for n, (port, proc) in enumerate(zip(backend_ports, groups["backends"])):
            wait_ok(f"http://127.0.0.1:{port}/health", proc, data / f"backend{n}.log", headers={"X-Facegate-Token": token})
        for n, (port, proc) in enumerate(zip(gateway_ports, groups["gateways"])):
            wait_ok(f"http://127.0.0.1:{port}/healthz", proc, data / f"gateway{n}.log")
        roots = {name: [p.pid for p in procs] for name, procs in groups.items()}
        roots["postgres"] = [postmaster_pid(env["DATABASE_URL"])]
        caller = SpreadCaller([f"http://127.0.0.1:{p}" for p in gateway_ports], app, token)
        payloads = bodies()
        print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}; 2 gateways (1 process each) x 2 backends, PostgreSQL, "
              f"{args.duration:g} s per row")
        print("| API | clients | calls | req/s | p50 ms | p95 ms | p99 ms | errors (codes) | CPU cores: gateways / "
              "backends / worker / postgres / load generator | stack CPU ms per call | req/s per stack core |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
        for api in args.apis:
            asyncio.run(load(caller, api, payloads[api], 4, 2.0))  # warm: models, connections
            for concurrency in args.concurrency:
                before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in roots.items()}
                before["loadgen"] = own_cpu_seconds()
                latencies, errors, wall = asyncio.run(load(caller, api, payloads[api], concurrency, args.duration))
                cores = {name: (sum(cpu_seconds(pid) for pid in pids) - before[name]) / wall for name, pids in roots.items()}
                cores["loadgen"] = (own_cpu_seconds() - before["loadgen"]) / wall
                rate = len(latencies) / wall
                stack = sum(v for k, v in cores.items() if k != "loadgen")
                print(f"| {api} | {concurrency} | {len(latencies)} | {rate:.1f} | {pct(latencies, .5):.0f} | "
                      f"{pct(latencies, .95):.0f} | {pct(latencies, .99):.0f} | {errors_text(errors)} | "
                      f"{' / '.join(f'{cores[p]:.2f}' for p in PARTS)} | {1000 * stack / rate:.1f} | "
                      f"{rate / stack:.1f} |", flush=True)
        print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        for procs in groups.values():
            for proc in procs:
                stop(proc, timeout=30, group=False)


if __name__ == "__main__":
    main()
