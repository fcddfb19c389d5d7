"""Driven by test_worker.py in a subprocess with its own data dir: set up the database, enqueue
record_call tasks for a real Celery worker, wait for the worker's rollups to appear."""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402


def setup() -> dict:
    call_command("migrate", verbosity=0)
    from gateway.services import create_application

    owner = get_user_model().objects.create_user(f"probe{uuid.uuid4().hex[:6]}", password="x" * 12)
    app, _ = create_application(owner, "probeapp")
    return {"app_id": app.pk}


def send(app_id: int, n: int) -> dict:
    from monitoring.tasks import record_call

    ts = time.time()
    for i in range(n):
        # A queue of its own: a shared Redis may hold other tests' messages that no worker consumed.
        record_call.apply_async(({"request_id": uuid.uuid4().hex, "app_id": app_id, "api": "detect",
                                  "code": "0" if i % 4 else "4105", "latency_ms": 10.0 + i, "bytes_in": 100,
                                  "bytes_out": 10, "ts": ts},), queue=os.environ["FACEGATE_TEST_QUEUE"])
    return {"sent": n}


def wait(app_id: int, n: int, timeout: float) -> dict:
    from django.db.models import Sum

    from monitoring.models import CallRecord, MinuteRollup

    deadline = time.monotonic() + timeout
    while True:
        total = MinuteRollup.objects.filter(application_id=app_id).aggregate(n=Sum("count"))["n"] or 0
        if total >= n or time.monotonic() > deadline:
            errors = MinuteRollup.objects.filter(application_id=app_id).aggregate(n=Sum("errors"))["n"] or 0
            return {"rollup_count": total, "errors": errors, "records": CallRecord.objects.count()}
        time.sleep(0.3)


if __name__ == "__main__":
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    result = {"setup": setup, "send": send, "wait": wait}[cmd](*args)
    print(json.dumps(result))
