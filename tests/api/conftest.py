"""One `facegate serve` for the API contract tests, the SDK tests and the examples: free loopback ports,
its own data dir (SQLite, filesystem broker), an app with packs for every API and an app with none."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from facegate.apis import API_NAMES
from facegate.procs import admin_json, free_port, start_serve, stop

READY_TIMEOUT_S = 150
CALLS_PER_API = 100_000


@dataclass(frozen=True)
class App:
    app_key: str
    app_secret: str
    service_codes: dict[str, str]


@dataclass(frozen=True)
class ApiStack:
    url: str
    app: App  # packs for every API
    app_without_packs: App  # every call 4291


def admin(env: dict[str, str], *args: str) -> dict:
    """`facegate admin ... --json` against the stack's data dir."""
    return admin_json(env, *args)


def new_app(env: dict[str, str], name: str, packs: bool) -> App:
    made = admin(env, "create-app", "--name", name)
    for api in API_NAMES if packs else ():
        admin(env, "grant", "--app", made["app_key"], "--api", api, "--calls", str(CALLS_PER_API), "--days", "30")
    return App(made["app_key"], made["app_secret"], made["service_codes"])


@pytest.fixture(scope="session")
def api_stack(tmp_path_factory) -> Iterator[ApiStack]:
    data_dir = tmp_path_factory.mktemp("api-stack")
    # The contract tests fire calls back to back (the fuzzer faster than the default 50 per second of
    # one app): with the default, the next test's first call could share a second with the fuzzer's
    # last ones and get 4292. The rate limit has tests of its own (tests/gateway).
    env = dict(os.environ, FACEGATE_DATA_DIR=str(data_dir), FACEGATE_DEFAULT_RATE_LIMIT="100000")
    for name in ("DATABASE_URL", "REDIS_URL", "FACEGATE_BACKEND_URLS", "FACEGATE_BACKEND_TOKEN",
                 "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    log = data_dir / "serve.log"
    port = free_port()
    proc = start_serve(env, log, port, free_port(), READY_TIMEOUT_S)
    try:
        yield ApiStack(f"http://127.0.0.1:{port}", new_app(env, "contract", packs=True),
                       new_app(env, "no-packs", packs=False))
    finally:
        stop(proc, timeout=30)


@pytest.fixture(scope="session")
def photos(shared_dir) -> Path:
    return shared_dir / "data" / "photos"
