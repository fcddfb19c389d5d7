"""The browser test's stack: `facegate serve` on free loopback ports with its own data dir (SQLite and
the filesystem Celery broker there), and a console account created with `facegate admin`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.console.live_stack import PASSWORD, REPO, USER, Stack, free_port

READY_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("console-stack")
    env = dict(os.environ, FACEGATE_DATA_DIR=str(data_dir))
    # Its own SQLite file and filesystem broker: nothing shared with other suites' servers or queues.
    for name in ("DATABASE_URL", "REDIS_URL", "FACEGATE_BACKEND_URLS", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    port, backend_port = free_port(), free_port()
    log = data_dir / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "facegate.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--backend-port", str(backend_port), "--workers", "2"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "facegate: ready" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"facegate serve did not start:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.3)
        stack = Stack(f"http://127.0.0.1:{port}", data_dir, env, log)
        stack.admin("create-user", "--email", USER, "--password", PASSWORD)
        yield stack
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # serve stops its children itself
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
