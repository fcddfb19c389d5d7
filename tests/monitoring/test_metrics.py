"""/metrics: Prometheus text from the database totals; bearer token unless explicitly public."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.tasks import record_call

pytestmark = pytest.mark.django_db


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_exposes_calls_codes_latency_and_bytes(app, record, client, settings):
    for lat in (3, 40, 40, 900):
        record_call(record(app.pk, latency_ms=lat))
    record_call(record(app.pk, code="4105", latency_ms=60, bytes_in=5000))
    reply = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.FACEGATE_METRICS_TOKEN}")
    assert reply.status_code == 200 and reply["Content-Type"].startswith("text/plain")
    samples = _samples(reply.content.decode())
    lv = (("api", "detect"), ("app", app.app_key), ("app_name", app.name))
    assert samples[("facegate_calls_total", tuple(sorted(lv + (("code", "0"),))))] == 4
    assert samples[("facegate_calls_total", tuple(sorted(lv + (("code", "4105"),))))] == 1
    assert samples[("facegate_call_errors_total", lv)] == 1
    assert samples[("facegate_bytes_in_total", lv)] == 4 * 1000 + 5000
    assert samples[("facegate_call_latency_seconds_count", lv)] == 5
    assert samples[("facegate_call_latency_seconds_sum", lv)] == pytest.approx((3 + 40 + 40 + 900 + 60) / 1000)
    assert samples[("facegate_call_latency_seconds_bucket", tuple(sorted(lv + (("le", "0.005"),))))] == 1
    assert samples[("facegate_call_latency_seconds_bucket", tuple(sorted(lv + (("le", "0.05"),))))] == 3
    assert samples[("facegate_call_latency_seconds_bucket", tuple(sorted(lv + (("le", "+Inf"),))))] == 5


def test_metrics_access_rules(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.FACEGATE_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 403  # loopback needs the token too
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret", REMOTE_ADDR="10.1.2.3").status_code == 200
