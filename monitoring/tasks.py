"""Celery tasks: record gateway calls (monitoring.recording), and the periodic alert check with
housekeeping."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.db import IntegrityError, OperationalError
from django.utils import timezone

from monitoring import alerts, recording
from monitoring.models import CallRecord, MinuteRollup

log = logging.getLogger(__name__)

# Raw rows are only for recent debugging; rollups carry the history the console shows (30 days)
# with room for a year-over-year look.
CALL_RECORD_DAYS = 7
ROLLUP_DAYS = 400


# A locked or restarting database is retried with backoff rather than losing the calls' metrics;
# an IntegrityError is a concurrent redelivery of the same ids, which the retry skips.
_RETRY = dict(ignore_result=True, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True,
              max_retries=5)


@shared_task(name="monitoring.record_calls", **_RETRY)
def record_calls(records: list[dict[str, Any]]) -> int:
    """Store a batch of calls (monitoring.recording.record_batch); returns how many were new."""
    return recording.record_batch(records)


@shared_task(name="monitoring.record_call", **_RETRY)
def record_call(record: dict[str, Any]) -> bool:
    """Store one call; False when its request_id was recorded already (a redelivered task).

    Keys: request_id, app_id (int|None), api, code, latency_ms, bytes_in, bytes_out, ts (epoch s).
    """
    return recording.record_batch([record]) == 1


@shared_task(name="monitoring.evaluate_alerts", ignore_result=True)
def evaluate_alerts() -> int:
    """Periodic (Celery beat): every rule of every active app. Returns alerts raised."""
    return len(alerts.evaluate())


@shared_task(name="monitoring.prune", ignore_result=True)
def prune(now: datetime | None = None) -> dict[str, int]:
    """Periodic (Celery beat): delete raw call rows and rollups past their keep time."""
    now = now or timezone.now()
    deleted = {
        "call_records": CallRecord.objects.filter(created_at__lt=now - timedelta(days=CALL_RECORD_DAYS)).delete()[0],
        "rollups": MinuteRollup.objects.filter(minute__lt=now - timedelta(days=ROLLUP_DAYS)).delete()[0],
    }
    if any(deleted.values()):
        log.info("pruned %s", deleted)
    return deleted
