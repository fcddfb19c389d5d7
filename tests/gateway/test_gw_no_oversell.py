"""No overselling under real concurrency: 30 simultaneous signed HTTP calls, 7 calls left in the pack.

A real face backend process and a real gunicorn gateway (3 workers) on loopback, on SQLite and on
PostgreSQL. Exactly 7 calls succeed, the rest get 4291, and the ledger shows 7 charged calls.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from facegate.client import signed_request
from gw_live import TOKEN, FreshPostgresDatabase, admin, charge_statuses, postgres_url_or_skip, stack_env
from facegate.procs import PY, free_port, start, stop, wait_ok

N, K = 30, 7


@pytest.fixture(scope="module")
def backend_url(tmp_path_factory, shared_dir):
    data = tmp_path_factory.mktemp("backend")
    port = free_port()
    env = stack_env(data, None, "")
    log = data / "backend.log"
    proc = start([PY, "-m", "facegate.cli", "backend", "--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        wait_ok(f"http://127.0.0.1:{port}/health", proc, log, headers={"X-Facegate-Token": TOKEN})
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def face_body(shared_dir) -> bytes:
    image = (shared_dir / "data" / "photos" / "009_C.jpg").read_bytes()  # one face, 100 KB
    return json.dumps({"imageContent": base64.encodebytes(image).decode()}).encode()


def _run_gateway(data: Path, env: dict):
    port = free_port()
    log = data / "gunicorn.log"
    proc = start([PY, "-m", "gunicorn", "facegate.wsgi:application", "--bind", f"127.0.0.1:{port}",
                  "--workers", "3", "--timeout", "60"], env, log)
    wait_ok(f"http://127.0.0.1:{port}/healthz", proc, log)
    return proc, f"http://127.0.0.1:{port}"


def _fire(base: str, app: dict, body: bytes, n: int) -> list[str]:
    barrier = threading.Barrier(n)
    ts0 = int(time.time() * 1000)

    def one(i: int) -> str:
        # Distinct timestamps give distinct Signs, so the replay check does not interfere.
        path, headers = signed_request(app["app_key"], app["app_secret"], app["service_codes"]["detect"],
                                       "detect", body, str(ts0 + i))
        barrier.wait()
        return requests.post(base + path, data=body, headers=headers, timeout=120).json()["code"]

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _no_oversell(tmp_path: Path, backend_url: str, face_body: bytes, database_url: str | None,
                 backend_urls: str | None = None) -> None:
    env = stack_env(tmp_path, database_url, backend_urls or backend_url)
    app = admin(env, "create-app", "--name", "racer")
    admin(env, "grant", "--app", app["app_key"], "--api", "detect", "--calls", str(K))
    proc, base = _run_gateway(tmp_path, env)
    try:
        codes = _fire(base, app, face_body, N)
    finally:
        stop(proc)
    assert sorted(codes) == ["0"] * K + ["4291"] * (N - K), codes
    usage = admin(env, "usage", "--app", app["app_key"])["detect"]
    assert usage["remaining"] == 0 and usage["used_today"] == K
    assert [p["calls_used"] for p in usage["packs"]] == [K]
    assert charge_statuses(env) == {"charged": K}


def test_no_oversell_sqlite(tmp_path, backend_url, face_body):
    # The first backend URL is a closed port: connection failures must fall through to the real one.
    dead = f"http://127.0.0.1:{free_port()}"
    _no_oversell(tmp_path, backend_url, face_body, None, backend_urls=f"{dead},{backend_url}")


@pytest.mark.postgres
def test_no_oversell_postgres(tmp_path, backend_url, face_body):
    with FreshPostgresDatabase(postgres_url_or_skip()) as database_url:
        _no_oversell(tmp_path, backend_url, face_body, database_url)
