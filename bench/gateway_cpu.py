"""The gateway's own cost per call: CPU milliseconds and SQL queries, measured in one process.

Starts a face backend on loopback (its CPU is not counted), then drives the gateway's WSGI
application in this process, one signed detect call after another, exactly as waitress would call
it (middleware, DRF view, handle_call, forwarding over the pooled connection). Per call: the CPU
this process used (all its threads: the metrics batcher included) and the SQL queries it ran.
`--profile` prints the cProfile functions with the most cumulative time.

usage: .venv/bin/python bench/gateway_cpu.py [--calls 300] [--profile]
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from facegate.client import signed_request  # noqa: E402
from facegate.procs import PY, free_port, start, stop, wait_ok  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from bench_http import bench_app, bench_env  # noqa: E402

PHOTO = REPO.parent / "shared" / "data" / "photos" / "009_C.jpg"


def wsgi_call(application, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One POST through the WSGI application, as a server would make it; the reply body."""
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "RAW_URI": path,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()
           if name.lower() != "content-type"},
    }
    status: list[str] = []
    chunks = application(environ, lambda s, h, exc=None: status.append(s))
    return b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the calls")
    args = parser.parse_args()
    backend_port = free_port()
    data, env = bench_env("facegate-gateway-cpu-", [f"http://127.0.0.1:{backend_port}"])
    app = bench_app(env, "benchcpu", ["detect"])
    backend = start([PY, "-m", "facegate.cli", "backend", "--port", str(backend_port)], env, data / "backend.log")
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "facegate.settings"
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    application = get_wsgi_application()
    body = json.dumps({"imageContent": base64.b64encode(PHOTO.read_bytes()).decode()}).encode()
    try:
        wait_ok(f"http://127.0.0.1:{backend_port}/health", backend, data / "backend.log",
                headers={"X-Facegate-Token": (data / "backend_token").read_text().strip()})

        def call(n: int) -> bytes:
            path, headers = signed_request(app["app_key"], app["app_secret"], app["service_codes"]["detect"],
                                           "detect", body, str(int(time.time() * 1000) + n))
            return wsgi_call(application, path, headers, body)

        for n in range(10):  # warm: imports, connections, the backend's models
            assert json.loads(call(n))["code"] == "0", call(n)
        with CaptureQueriesContext(connection) as queries:
            reply = json.loads(call(10))
        print(f"SQL per call: {len(queries)}")
        for query in queries.captured_queries:
            print(f"  {query['sql'][:160]}")
        profile = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        codes = [json.loads(call(100 + n))["code"] for n in range(args.calls)]
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert reply["code"] == "0" and set(codes) == {"0"}, codes
        print(f"| calls | gateway CPU ms per call | wall ms per call (backend included) | load average |\n|---|---|---|---|\n"
              f"| {args.calls} | {cpu / args.calls * 1000:.2f} | {wall / args.calls * 1000:.1f} | {os.getloadavg()[0]:.1f} |")
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    finally:
        stop(backend, timeout=30, group=False)


if __name__ == "__main__":
    main()
