"""The pipeline's hand-off: a CallOutcome becomes one CallRecord; unsigned calls are bounded per app."""
from __future__ import annotations

import time
import uuid

import pytest

from monitoring.intake import UNSIGNED_PER_SECOND, submit
from monitoring.outcome import CallOutcome
from monitoring.models import CallRecord

pytestmark = pytest.mark.django_db


def _outcome(app_id: int | None, code: str, signed: bool, ts: float) -> CallOutcome:
    return CallOutcome(request_id=uuid.uuid4().hex, app_id=app_id, api="detect" if signed else "", code=code,
                       latency_ms=3.0, bytes_in=10, bytes_out=20, ts=ts, signed=signed)


@pytest.fixture(autouse=True)
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_signed_outcome_is_recorded(app):
    assert submit(_outcome(app.pk, "0", True, time.time()))
    row = CallRecord.objects.get()
    assert (row.application_id, row.api, row.code, row.bytes_in, row.bytes_out) == (app.pk, "detect", "0", 10, 20)


def test_unsigned_flood_is_bounded_per_app_not_signed_calls(app):
    now = float(int(time.time()))
    kept = sum(submit(_outcome(app.pk, "4003", False, now)) for _ in range(UNSIGNED_PER_SECOND * 3))
    assert kept == UNSIGNED_PER_SECOND
    assert CallRecord.objects.filter(code="4003").count() == UNSIGNED_PER_SECOND
    # The owner's own signed calls in the same second are all recorded.
    assert all(submit(_outcome(app.pk, "0", True, now)) for _ in range(UNSIGNED_PER_SECOND * 2))
    assert CallRecord.objects.filter(code="0").count() == UNSIGNED_PER_SECOND * 2


def test_batcher_groups_outcomes_by_window_and_size(app):
    """Outcomes put within one window leave as one batch; a full batch leaves at once; the
    batches, recorded by the worker's task, count every call once."""
    import threading

    from monitoring.intake import OutcomeBatcher
    from monitoring.models import ApiTotal
    from monitoring.tasks import record_calls
    batches: list[list[dict]] = []
    arrived = threading.Event()

    def collect(batch: list[dict]) -> None:
        batches.append(batch)
        if sum(map(len, batches)) >= 30:
            arrived.set()

    batcher = OutcomeBatcher(window=0.5, send=collect, max_batch=20)
    now = time.time()
    for _ in range(30):
        batcher.put(_outcome(app.pk, "0", True, now).as_record())
    assert arrived.wait(10)
    assert [len(b) for b in batches] == [20, 10]
    assert sum(record_calls(batch) for batch in batches) == 30
    assert record_calls(batches[0]) == 0  # a redelivered batch counts once
    assert ApiTotal.objects.get(application=app, api="detect").count == 30
