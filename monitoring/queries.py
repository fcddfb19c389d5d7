"""Read-side of monitoring for the console: time series, summaries and code breakdowns from the
per-minute rollups, plus the alert list. Nothing here writes.

`apps` everywhere is an Application, an iterable of Applications or ids, or a QuerySet of them
(an admin passes `Application.objects.all()`, a user `request.user.applications.all()`).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Union

from django.db.models import QuerySet
from django.utils import timezone

from gateway.models import Application
from monitoring.models import LATENCY_BUCKETS_MS, Alert, MinuteRollup
from monitoring.percentiles import merge_buckets, percentile

AppsArg = Union[Application, int, Iterable[Union[Application, int]], QuerySet]

# period → (number of buckets, bucket width). Windows end at the current (partial) bucket.
PERIODS: dict[str, tuple[int, timedelta]] = {
    "hour": (60, timedelta(minutes=1)),
    "day": (24, timedelta(hours=1)),
    "month": (30, timedelta(days=1)),
}


def _app_ids(apps: AppsArg) -> list[int]:
    if isinstance(apps, QuerySet):
        return list(apps.values_list("pk", flat=True))
    if isinstance(apps, (Application, int)):
        apps = [apps]
    return [a.pk if isinstance(a, Application) else int(a) for a in apps]


def _floor(moment: datetime, width: timedelta) -> datetime:
    # Buckets are aligned in UTC so that every process and the database agree on boundaries.
    moment = moment.astimezone(dt_timezone.utc)
    if width >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if width >= timedelta(hours=1):
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(second=0, microsecond=0)


def window(period: str, now: datetime | None = None) -> tuple[datetime, datetime, timedelta, int]:
    """(start, end, bucket width, bucket count) of a period; ValueError for an unknown period."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    count, width = PERIODS[period]
    end_bucket = _floor(now or timezone.now(), width)
    start = end_bucket - width * (count - 1)
    return start, end_bucket + width, width, count


def _rollups(apps: AppsArg, api: str | None, start: datetime, end: datetime) -> QuerySet:
    qs = MinuteRollup.objects.filter(application_id__in=_app_ids(apps), minute__gte=start, minute__lt=end)
    return qs.filter(api=api) if api else qs


_FIELDS = ("minute", "count", "errors", "latency_sum_ms", "latency_max_ms", "latency_buckets", "codes",
           "bytes_in", "bytes_out")


class _Acc:
    """Sums of rollup rows; percentiles come from the merged histogram."""

    __slots__ = ("count", "errors", "latency_sum", "latency_max", "buckets", "bytes_in", "bytes_out")

    def __init__(self) -> None:
        self.count = self.errors = self.bytes_in = self.bytes_out = 0
        self.latency_sum = self.latency_max = 0.0
        self.buckets = [0] * len(LATENCY_BUCKETS_MS)

    def add(self, row: dict) -> None:
        self.count += row["count"]
        self.errors += row["errors"]
        self.latency_sum += row["latency_sum_ms"]
        self.latency_max = max(self.latency_max, row["latency_max_ms"])
        merge_buckets(self.buckets, row["latency_buckets"])
        self.bytes_in += row["bytes_in"]
        self.bytes_out += row["bytes_out"]

    def pct(self, q: float) -> float | None:
        return percentile(self.buckets, q, self.latency_max)


def series(apps: AppsArg, api: str | None = None, period: str = "hour",
           now: datetime | None = None) -> dict[str, Any]:
    """Bucketed series over the last hour (1-min buckets), day (1-h) or 30 days (1-day), oldest first.

    Returns {"period", "bucket_seconds", "start", "end", "labels": [ISO-8601 UTC bucket starts],
    "count", "errors", "p50_ms", "p95_ms", "avg_ms", "bytes_in", "bytes_out": lists aligned with labels}.
    Latency entries are None for empty buckets (a chart gap, not a zero).
    """
    start, end, width, n = window(period, now)
    accs = [_Acc() for _ in range(n)]
    for row in _rollups(apps, api, start, end).values(*_FIELDS).iterator(chunk_size=5000):
        accs[int((row["minute"] - start) / width)].add(row)
    return {
        "period": period,
        "bucket_seconds": int(width.total_seconds()),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "labels": [(start + width * i).isoformat() for i in range(n)],
        "count": [a.count for a in accs],
        "errors": [a.errors for a in accs],
        "p50_ms": [_round(a.pct(0.50)) for a in accs],
        "p95_ms": [_round(a.pct(0.95)) for a in accs],
        "avg_ms": [_round(a.latency_sum / a.count) if a.count else None for a in accs],
        "bytes_in": [a.bytes_in for a in accs],
        "bytes_out": [a.bytes_out for a in accs],
    }


def summary(apps: AppsArg, api: str | None = None, period: str = "hour",
            now: datetime | None = None) -> dict[str, Any]:
    """Totals of a period: {"count", "errors", "error_rate" (0..1), "p50_ms", "p95_ms", "avg_ms",
    "max_ms", "bytes_in", "bytes_out"}; latency keys are None when there were no calls."""
    start, end, _, _ = window(period, now)
    acc = _Acc()
    for row in _rollups(apps, api, start, end).values(*_FIELDS).iterator(chunk_size=5000):
        acc.add(row)
    return {
        "count": acc.count,
        "errors": acc.errors,
        "error_rate": round(acc.errors / acc.count, 4) if acc.count else 0.0,
        "p50_ms": _round(acc.pct(0.50)),
        "p95_ms": _round(acc.pct(0.95)),
        "avg_ms": _round(acc.latency_sum / acc.count) if acc.count else None,
        "max_ms": _round(acc.latency_max) if acc.count else None,
        "bytes_in": acc.bytes_in,
        "bytes_out": acc.bytes_out,
    }


def code_breakdown(apps: AppsArg, api: str | None = None, period: str = "hour",
                   now: datetime | None = None) -> dict[str, int]:
    """{code: count} over the period, most frequent first ("0" = success is included)."""
    start, end, _, _ = window(period, now)
    totals: dict[str, int] = {}
    for codes in _rollups(apps, api, start, end).values_list("codes", flat=True).iterator(chunk_size=5000):
        for code, n in codes.items():
            totals[code] = totals.get(code, 0) + n
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def alert_list(apps: AppsArg, include_acknowledged: bool = True, limit: int = 200) -> QuerySet:
    """Alerts of these apps, newest first, with rule/application/acknowledged_by preloaded."""
    qs = Alert.objects.filter(application_id__in=_app_ids(apps)).select_related(
        "rule", "application", "acknowledged_by")
    if not include_acknowledged:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by("-raised_at")[:limit]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
