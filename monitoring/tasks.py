"""Celery tasks: record one gateway call (row + per-minute rollup + all-time total), and the
periodic alert check with housekeeping."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from celery import shared_task
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from facegate import errors
from facegate.apis import API_NAMES
from gateway import replay
from gateway.models import Application
from monitoring import alerts
from monitoring.models import LATENCY_BUCKETS_MS, ApiTotal, CallAggregate, CallRecord, MinuteRollup
from monitoring.percentiles import bucket_index

log = logging.getLogger(__name__)

# Raw rows are only for recent debugging; rollups carry the history the console shows (30 days)
# with room for a year-over-year look.
CALL_RECORD_DAYS = 7
ROLLUP_DAYS = 400


# A locked or restarting database is retried with backoff rather than losing the call's metrics.
@shared_task(name="monitoring.record_call", ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def record_call(record: dict[str, Any]) -> bool:
    """Store one call and add it to its minute's rollup; False when request_id was seen already.

    Keys: request_id, app_id (int|None), api, code, latency_ms, bytes_in, bytes_out, ts (epoch s).
    """
    created_at = datetime.fromtimestamp(float(record["ts"]), tz=dt_timezone.utc)
    code = str(record["code"])
    api = record.get("api") or ""
    app_id = record.get("app_id")
    if app_id is not None and not Application.objects.filter(pk=app_id).exists():
        app_id = None  # the app was deleted while the task waited in the queue
    latency = max(0.0, float(record.get("latency_ms") or 0.0))
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Losing the last few metrics on a server crash is acceptable; not waiting for the
                # WAL flush roughly halves the cost of each call. Applies to this transaction only.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            CallRecord.objects.create(
                request_id=str(record["request_id"])[:64], application_id=app_id, api=api[:16], code=code[:8],
                latency_ms=latency, bytes_in=int(record.get("bytes_in") or 0),
                bytes_out=int(record.get("bytes_out") or 0), created_at=created_at)
            # Calls without an app (bad AppKey) or API (unknown path) have no dashboard to go to.
            if app_id is not None and api in API_NAMES:
                minute = created_at.replace(second=0, microsecond=0)
                _add(_locked(MinuteRollup, application_id=app_id, api=api, minute=minute), code, latency, record)
                _add(_locked(ApiTotal, application_id=app_id, api=api), code, latency, record)
    except IntegrityError:
        if CallRecord.objects.filter(request_id=str(record["request_id"])[:64]).exists():
            return False  # a redelivered task: counted once already
        raise
    if app_id is not None and api in API_NAMES:
        alerts.evaluate_call(app_id, api, code)
    return True


def _locked(model: type[CallAggregate], **key: Any) -> CallAggregate:
    """The aggregate row for key, locked for this transaction; created when missing.

    get_or_create retries the read after losing an insert race (IntegrityError in a savepoint), and
    select_for_update makes concurrent workers on PostgreSQL queue on the row; SQLite's IMMEDIATE
    transactions already serialise writers.
    """
    row, _ = model.objects.select_for_update().get_or_create(**key)
    return row


def _add(row: CallAggregate, code: str, latency: float, record: dict[str, Any]) -> None:
    row.count += 1
    if code != errors.SUCCESS:
        row.errors += 1
    row.latency_sum_ms += latency
    row.latency_max_ms = max(row.latency_max_ms, latency)
    buckets = list(row.latency_buckets) + [0] * (len(LATENCY_BUCKETS_MS) - len(row.latency_buckets))
    buckets[bucket_index(latency)] += 1
    row.latency_buckets = buckets
    row.codes = {**row.codes, code: row.codes.get(code, 0) + 1}
    row.bytes_in += int(record.get("bytes_in") or 0)
    row.bytes_out += int(record.get("bytes_out") or 0)
    row.save()


@shared_task(name="monitoring.evaluate_alerts", ignore_result=True)
def evaluate_alerts() -> int:
    """Periodic (Celery beat): every rule of every active app. Returns alerts raised."""
    return len(alerts.evaluate())


@shared_task(name="monitoring.prune", ignore_result=True)
def prune(now: datetime | None = None) -> dict[str, int]:
    """Periodic (Celery beat): delete raw call rows and rollups past their keep time, and the
    replay cache's expired signatures (gateway.replay.prune holds that lifetime)."""
    now = now or timezone.now()
    deleted = {
        "call_records": CallRecord.objects.filter(created_at__lt=now - timedelta(days=CALL_RECORD_DAYS)).delete()[0],
        "rollups": MinuteRollup.objects.filter(minute__lt=now - timedelta(days=ROLLUP_DAYS)).delete()[0],
        "seen_signs": replay.prune(),
    }
    if any(deleted.values()):
        log.info("pruned %s", deleted)
    return deleted
