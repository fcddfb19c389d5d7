"""record_call: the raw row, the minute rollup math, idempotency and the console queries over it."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import numpy as np
import pytest

from monitoring import queries
from monitoring.models import LATENCY_BUCKETS_MS, ApiTotal, CallRecord, MinuteRollup
from monitoring.percentiles import bucket_index, percentile
from monitoring.tasks import prune, record_call

pytestmark = pytest.mark.django_db


def _bucket_bounds(value: float) -> tuple[float, float]:
    i = bucket_index(value)
    return (LATENCY_BUCKETS_MS[i - 1] if i else 0.0), LATENCY_BUCKETS_MS[i]


def test_rollup_counts_and_percentiles_match_numpy(app, record):
    rng = np.random.default_rng(7)
    latencies = rng.lognormal(mean=np.log(80), sigma=0.6, size=400)
    now = time.time()
    codes = ["0"] * 360 + ["4105"] * 30 + ["5000"] * 10
    for lat, code in zip(latencies, codes):
        assert record_call(record(app.pk, code=code, latency_ms=float(lat), ts=now - 5, bytes_in=1500,
                                       bytes_out=300)) is True
    # all within one or two minutes: the rows add up to the calls
    rows = MinuteRollup.objects.filter(application=app, api="detect")
    assert sum(r.count for r in rows) == 400 and len(rows) == 1
    row = rows[0]
    assert row.errors == 40
    assert row.codes == {"0": 360, "4105": 30, "5000": 10}
    assert row.bytes_in == 400 * 1500 and row.bytes_out == 400 * 300
    assert row.latency_max_ms == pytest.approx(latencies.max())
    assert row.latency_sum_ms == pytest.approx(latencies.sum())
    assert sum(row.latency_buckets) == 400 and len(row.latency_buckets) == len(LATENCY_BUCKETS_MS)

    s = queries.summary(app, "detect", "hour")
    assert s["count"] == 400 and s["errors"] == 40 and s["error_rate"] == pytest.approx(0.1)
    for key, q in (("p50_ms", 50), ("p95_ms", 95)):
        exact = float(np.percentile(latencies, q))
        low, high = _bucket_bounds(exact)
        # The estimate lies in the bucket of the exact value (or on its edge): error < bucket width.
        assert low - 1e-6 <= s[key] <= high + 1e-6, (key, s[key], exact)
        assert abs(s[key] - exact) <= high - low
    assert queries.code_breakdown(app, "detect", "hour") == {"0": 360, "4105": 30, "5000": 10}
    total = ApiTotal.objects.get(application=app, api="detect")
    assert (total.count, total.errors, total.codes) == (400, 40, row.codes)


def test_record_call_is_idempotent_on_request_id(app, record):
    rec = record(app.pk)
    assert record_call(rec) is True
    assert record_call(dict(rec)) is False
    assert CallRecord.objects.filter(request_id=rec["request_id"]).count() == 1
    assert MinuteRollup.objects.get(application=app).count == 1
    assert ApiTotal.objects.get(application=app).count == 1


def test_calls_without_app_or_api_are_kept_but_not_rolled_up(app, record):
    assert record_call(record(None, api="", code="4002"))
    assert record_call(record(app.pk, api="nonsense", code="4005"))
    assert record_call(record(987654, code="0"))  # app deleted meanwhile: row kept without it
    assert CallRecord.objects.count() == 3
    assert CallRecord.objects.filter(application__isnull=True).count() == 2
    assert not MinuteRollup.objects.exists()


def test_series_buckets_align_with_minutes(app, record):
    now = datetime(2026, 3, 1, 12, 30, 20, tzinfo=dt_timezone.utc)
    for minutes_ago, n in ((0, 3), (1, 2), (59, 1), (60, 7)):  # 60 minutes ago is outside the hour
        for _ in range(n):
            record_call(record(app.pk, ts=(now - timedelta(minutes=minutes_ago)).timestamp(), latency_ms=30))
    record_call(record(app.pk, api="mask", ts=now.timestamp()))
    hour = queries.series(app, "detect", "hour", now=now)
    assert len(hour["labels"]) == 60 and hour["bucket_seconds"] == 60
    assert hour["labels"][-1] == "2026-03-01T12:30:00+00:00"
    assert hour["count"][-1] == 3 and hour["count"][-2] == 2 and hour["count"][0] == 1
    assert sum(hour["count"]) == 6
    assert hour["p50_ms"][-1] is not None and hour["p50_ms"][-3] is None
    day = queries.series([app.pk], None, "day", now=now)
    assert len(day["labels"]) == 24 and day["count"][-1] == 6 and day["count"][-2] == 8
    month = queries.series(type(app).objects.filter(pk=app.pk), period="month", now=now)
    assert len(month["labels"]) == 30 and sum(month["count"]) == 14
    assert month["bytes_in"][-1] == 14 * 1000
    with pytest.raises(ValueError):
        queries.series(app, period="year")


def test_percentile_edges():
    assert percentile([0] * len(LATENCY_BUCKETS_MS), 0.5) is None
    only_last = [0] * (len(LATENCY_BUCKETS_MS) - 1) + [4]
    # The open last bucket is capped by the largest latency seen.
    assert percentile(only_last, 0.95, 45000.0) <= 45000.0


def test_prune_drops_old_rows(app, record):
    old = time.time() - 8 * 86400
    record_call(record(app.pk, ts=old))
    record_call(record(app.pk))
    counts = prune()
    assert counts["call_records"] == 1
    assert CallRecord.objects.count() == 1
    assert MinuteRollup.objects.count() == 2  # rollups are kept for 400 days
