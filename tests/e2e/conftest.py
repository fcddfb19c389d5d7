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
    # Beat's housekeeping every 3 s, so that a retried task (a deleted app's library purge) is seen.
    env["FACEGATE_HOUSEKEEPING_SECONDS"] = "3"
    log = data / "serve.log"
    backend_port = free_port()
    proc = start_serve(env, log, port, backend_port, timeout=120)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "env": env, "log": log, "data": data,
               "backend": f"http://127.0.0.1:{backend_port}"}
    finally:
        # SIGTERM to serve alone: it stops its children and exits 0.
        assert stop(proc, timeout=30, group=False) == 0, log.read_text(errors="replace")[-3000:]
