"""The browser test's stack: `facegate serve` on free loopback ports with its own data dir (SQLite and
the filesystem Celery broker there), and a console account created with `facegate admin`."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from facegate.procs import free_port, start_serve, stop
from tests.console.live_stack import PASSWORD, USER, Stack

READY_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("console-stack")
    env = dict(os.environ, FACEGATE_DATA_DIR=str(data_dir))
    # Its own SQLite file and filesystem broker: nothing shared with other suites' servers or queues.
    for name in ("DATABASE_URL", "REDIS_URL", "FACEGATE_BACKEND_URLS", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    log = data_dir / "serve.log"
    port = free_port()
    proc = start_serve(env, log, port, free_port(), READY_TIMEOUT_S)
    try:
        stack = Stack(f"http://127.0.0.1:{port}", data_dir, env, log)
        stack.admin("create-user", "--email", USER, "--password", PASSWORD)
        yield stack
    finally:
        stop(proc, timeout=30)  # serve stops its children itself
