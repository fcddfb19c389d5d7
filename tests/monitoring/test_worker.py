"""A real `celery worker` subprocess consumes record_call tasks: the zero-setup filesystem broker in
the data dir, and Redis when FACEGATE_TEST_REDIS_URL is set. Two prefork processes write the same
minute's rollup at once, so this is also the cross-process concurrency test on SQLite."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from facegate.procs import stop

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("worker_probe.py")
CALLS = 40


def _probe(env: dict, *args: object, timeout: float = 90) -> dict:
    out = subprocess.run([sys.executable, str(PROBE), *map(str, args)], env=env, cwd=REPO, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_worker_roundtrip(tmp_path: Path, redis_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FACEGATE_CELERY_EAGER")}
    queue = f"facegate-test-{uuid.uuid4().hex[:8]}"
    env.update(FACEGATE_DATA_DIR=str(tmp_path), REDIS_URL=redis_url, PYTHONUNBUFFERED="1", FACEGATE_TEST_QUEUE=queue)
    app_id = _probe(env, "setup")["app_id"]
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "facegate.celery", "worker", "--pool", "prefork", "--concurrency", "2",
         "--queues", queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _probe(env, "send", app_id, CALLS)
        result = _probe(env, "wait", app_id, CALLS, 60)
    finally:
        stop(worker, timeout=30, group=False)  # warm shutdown of the main process; it stops its pool
        log.close()
    worker_log = (tmp_path / "worker.log").read_text()[-3000:]
    assert result == {"rollup_count": CALLS, "errors": CALLS // 4, "records": CALLS}, worker_log
    assert "monitoring.record_call" in worker_log


def test_filesystem_broker_worker_end_to_end(tmp_path):
    _run_worker_roundtrip(tmp_path, "")
    assert (tmp_path / "celery-broker" / "out").is_dir()


def test_redis_broker_worker_end_to_end(tmp_path):
    url = os.environ.get("FACEGATE_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("FACEGATE_TEST_REDIS_URL is unset under CI: source tools/ensure_services.sh")
        pytest.skip("FACEGATE_TEST_REDIS_URL unset (tools/ensure_services.sh sets it)")
    _run_worker_roundtrip(tmp_path, url)
