"""Recording calls: raw rows, per-minute rollups and all-time totals, a batch per transaction.

A batch is what one gateway process handed off in up to half a second (monitoring.intake). One
transaction per batch, one locked rollup row per (app, API, minute) instead of one per call, is
what keeps recording cheap at hundreds of calls a second; a redelivered batch counts once because
the raw rows are keyed on request_id.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from django.db import connection, transaction

from facegate import errors
from gateway.models import Application
from monitoring import alerts
from monitoring.models import LATENCY_BUCKETS_MS, ApiTotal, CallAggregate, CallRecord, MinuteRollup
from monitoring.outcome import CallOutcome
from monitoring.percentiles import bucket_index


def record_batch(records: list[dict[str, Any]]) -> int:
    """Store the calls not stored yet and add them to their rollups; returns how many were new.

    Raises IntegrityError when a concurrent redelivery inserted the same ids first: the caller
    retries, and the retry skips them.
    """
    calls = list({c.request_id: c for c in map(CallOutcome.from_record, records)}.values())
    if not calls:
        return 0
    app_ids = {c.app_id for c in calls if c.app_id is not None}
    live_apps = set(Application.objects.filter(pk__in=app_ids).values_list("pk", flat=True)) if app_ids else set()
    # An app deleted while the batch waited in the queue: the rows are kept without it.
    calls = [c if c.app_id in live_apps or c.app_id is None else dataclasses.replace(c, app_id=None) for c in calls]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Losing the last few metrics on a server crash is acceptable; not waiting for the
            # WAL flush roughly halves the cost of each batch. Applies to this transaction only.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        seen = set(CallRecord.objects.filter(request_id__in=[c.request_id for c in calls])
                   .values_list("request_id", flat=True))
        fresh = [c for c in calls if c.request_id not in seen]
        CallRecord.objects.bulk_create([
            CallRecord(request_id=c.request_id, application_id=c.app_id, api=c.api, code=c.code,
                       latency_ms=c.latency_ms, bytes_in=c.bytes_in, bytes_out=c.bytes_out, created_at=c.created_at)
            for c in fresh])
        minutes: dict[tuple, list[CallOutcome]] = defaultdict(list)
        totals: dict[tuple, list[CallOutcome]] = defaultdict(list)
        for c in fresh:
            if c.has_dashboard:
                minutes[(c.app_id, c.api, c.created_at.replace(second=0, microsecond=0))].append(c)
                totals[(c.app_id, c.api)].append(c)
        # Rows are locked in one global order, so concurrent workers cannot deadlock on them.
        for (app_id, api, minute), group in sorted(minutes.items()):
            _add(_locked(MinuteRollup, application_id=app_id, api=api, minute=minute), group)
        for (app_id, api), group in sorted(totals.items()):
            _add(_locked(ApiTotal, application_id=app_id, api=api), group)
    for app_id, api, code in sorted({(c.app_id, c.api, c.code) for c in fresh if c.has_dashboard}):
        alerts.evaluate_call(app_id, api, code)
    return len(fresh)


def _locked(model: type[CallAggregate], **key: Any) -> CallAggregate:
    """The aggregate row for key, locked for this transaction; created when missing.

    get_or_create retries the read after losing an insert race (IntegrityError in a savepoint), and
    select_for_update makes concurrent workers on PostgreSQL queue on the row; SQLite's IMMEDIATE
    transactions already serialise writers.
    """
    row, _ = model.objects.select_for_update().get_or_create(**key)
    return row


def _add(row: CallAggregate, calls: list[CallOutcome]) -> None:
    buckets = list(row.latency_buckets) + [0] * (len(LATENCY_BUCKETS_MS) - len(row.latency_buckets))
    codes = dict(row.codes)
    for c in calls:
        row.count += 1
        if c.code != errors.SUCCESS:
            row.errors += 1
        row.latency_sum_ms += c.latency_ms
        row.latency_max_ms = max(row.latency_max_ms, c.latency_ms)
        buckets[bucket_index(c.latency_ms)] += 1
        codes[c.code] = codes.get(c.code, 0) + 1
        row.bytes_in += c.bytes_in
        row.bytes_out += c.bytes_out
    row.latency_buckets = buckets
    row.codes = codes
    row.save()
