"""Monitoring throughput: record_call in-process, and a real Celery worker draining the broker.

    .venv/bin/python bench/bench_monitoring.py [--calls 300] [--redis redis://127.0.0.1:6379/15]
        [--database-url postgres://...]

Uses a temporary data dir (SQLite file unless --database-url). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--redis", default="", help="broker URL; default: the filesystem broker")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    os.environ["FACEGATE_DATA_DIR"] = tempfile.mkdtemp(prefix="facegate-bench-")
    os.environ["REDIS_URL"] = args.redis
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("FACEGATE_CELERY_EAGER", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from gateway.services import create_application
    from monitoring import queries
    from monitoring.models import MinuteRollup
    from monitoring.tasks import record_call
    from facegate.procs import stop

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user(f"bench{uuid.uuid4().hex[:6]}", password="x" * 12)
    app, _ = create_application(owner, "benchapp")

    def rec(i: int) -> dict:
        return {"request_id": uuid.uuid4().hex, "app_id": app.pk, "api": "detect", "code": "0" if i % 10 else "4105",
                "latency_ms": 20.0 + i % 200, "bytes_in": 2000, "bytes_out": 300, "ts": time.time()}

    t0 = time.perf_counter()
    for i in range(args.calls):
        record_call(rec(i))
    inproc = args.calls / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    queries.series(app, None, "month")
    series_ms = (time.perf_counter() - t0) * 1000

    connection.close()
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "facegate.celery", "worker", "--pool", "prefork",
                               "--concurrency", str(args.concurrency), "--loglevel", "WARNING", "--without-gossip",
                               "--without-mingle", "--without-heartbeat"],
                              cwd=REPO, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        time.sleep(4)  # let the worker boot: we time the draining, not the start-up
        t0 = time.perf_counter()
        for i in range(args.calls):
            record_call.delay(rec(i))
        enqueue_s = time.perf_counter() - t0
        target = 2 * args.calls
        while (MinuteRollup.objects.filter(application=app).aggregate(n=Sum("count"))["n"] or 0) < target:
            if time.perf_counter() - t0 > 300:
                raise SystemExit("worker did not finish in 300 s")
            time.sleep(0.1)
        drained_s = time.perf_counter() - t0
    finally:
        stop0 = time.perf_counter()
        stop(worker, timeout=60, group=False)  # warm shutdown of the main process; it stops its pool
        stop_s = time.perf_counter() - stop0
    print(json.dumps({
        "broker": "redis" if args.redis else "filesystem",
        "database": connection.vendor,
        "calls": args.calls,
        "record_call_in_process_per_s": round(inproc, 1),
        "enqueue_per_s": round(args.calls / enqueue_s, 1),
        "worker_end_to_end_per_s": round(args.calls / drained_s, 1),
        "series_month_ms": round(series_ms, 1),
        "worker_stop_s": round(stop_s, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
