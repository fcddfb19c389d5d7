"""Prometheus /metrics, built from the all-time per-(app, API) totals in the database.

Reading the database (not in-process counters) makes every gateway and worker process report the
same numbers, and costs one small query (apps × 5 rows) per scrape.
Access: `Authorization: Bearer <FACEGATE_METRICS_TOKEN>` (a public gateway must not leak per-app
traffic), unless FACEGATE_METRICS_PUBLIC opened it. Loopback is not trusted: behind a proxy on the
same host every client comes from loopback.
"""
from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from monitoring.models import LATENCY_BUCKETS_MS, Alert, ApiTotal

class RollupCollector:
    """Yields the metric families from ApiTotal rows at collect time."""

    def collect(self) -> Iterator[Metric]:
        labels = ["app", "app_name", "api"]
        calls = CounterMetricFamily("facegate_calls", "Gateway calls by result code", labels=labels + ["code"])
        errs = CounterMetricFamily("facegate_call_errors", "Gateway calls with a non-zero code", labels=labels)
        b_in = CounterMetricFamily("facegate_bytes_in", "Request body bytes", labels=labels)
        b_out = CounterMetricFamily("facegate_bytes_out", "Response body bytes", labels=labels)
        latency = HistogramMetricFamily("facegate_call_latency_seconds", "Gateway call latency", labels=labels)
        rows = ApiTotal.objects.select_related("application").only(
            "api", "count", "errors", "latency_sum_ms", "latency_buckets", "codes", "bytes_in", "bytes_out",
            "application__app_key", "application__name")
        for row in rows:
            lv = [row.application.app_key, row.application.name, row.api]
            for code, n in sorted(row.codes.items()):
                calls.add_metric(lv + [code], n)
            errs.add_metric(lv, row.errors)
            b_in.add_metric(lv, row.bytes_in)
            b_out.add_metric(lv, row.bytes_out)
            cumulative, buckets = 0, []
            for bound, n in zip(LATENCY_BUCKETS_MS, list(row.latency_buckets) + [0] * len(LATENCY_BUCKETS_MS)):
                cumulative += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound / 1000.0), cumulative))
            latency.add_metric(lv, buckets, row.latency_sum_ms / 1000.0)
        open_alerts = GaugeMetricFamily("facegate_open_alerts", "Unacknowledged alerts", labels=["kind"])
        counts: dict[str, int] = {}
        for kind in Alert.objects.filter(acknowledged_at__isnull=True).values_list("kind", flat=True):
            counts[kind] = counts.get(kind, 0) + 1
        for kind, n in sorted(counts.items()):
            open_alerts.add_metric([kind], n)
        yield from (calls, errs, b_in, b_out, latency, open_alerts)


def _allowed(request: HttpRequest) -> bool:
    if getattr(settings, "FACEGATE_METRICS_PUBLIC", False):
        return True
    token = getattr(settings, "FACEGATE_METRICS_TOKEN", "")
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollupCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
