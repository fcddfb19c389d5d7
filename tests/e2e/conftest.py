"""The end-to-end tests' stack: `facegate serve` as a user starts it (temp data dir, free ports)."""
from __future__ import annotations

import os

import pytest

from facegate.procs import free_port, start_serve, stop


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FACEGATE_BACKEND_URLS",
                                                             "FACEGATE_BACKEND_TOKEN")}
    env["FACEGATE_DATA_DIR"] = str(data)
    log = data / "serve.log"
    proc = start_serve(env, log, port, free_port(), timeout=120)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "env": env, "log": log}
    finally:
        # SIGTERM to serve alone: it stops its children and exits 0.
        assert stop(proc, timeout=30, group=False) == 0, log.read_text(errors="replace")[-3000:]
