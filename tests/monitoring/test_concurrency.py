"""Concurrent record_call from threads, each with its own database connection, on one hot rollup row.
(Processes on SQLite are covered by test_worker.py's two-process worker.)"""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from monitoring.models import ApiTotal, CallRecord, MinuteRollup
from monitoring.tasks import record_call


@pytest.mark.django_db(transaction=True)
def test_threads_update_the_same_rollup_without_losing_counts(app, record):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite test database is one connection; test_worker.py covers SQLite processes")
    threads, per_thread, ts = 6, 15, time.time()
    failures: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                record_call(record(app.pk, ts=ts, latency_ms=42.0))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not failures, failures
    n = threads * per_thread
    assert CallRecord.objects.count() == n
    row = MinuteRollup.objects.get(application=app)
    assert (row.count, row.codes["0"], row.bytes_in) == (n, n, n * 1000)
    assert ApiTotal.objects.get(application=app).count == n
