"""Alert rules: each raises once, stays until acknowledged, and the webhook reaches a real server."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from billing.models import ResourcePack
from billing.orders import grant_pack
from facegate.procs import free_port
from monitoring import alerts, queries
from monitoring.models import Alert, AlertRule
from monitoring.tasks import evaluate_alerts, record_call

pytestmark = pytest.mark.django_db


def _kinds(app) -> list[tuple[str, str]]:
    return sorted(Alert.objects.filter(application=app).values_list("kind", "api"))


def test_default_rules_are_created_lazily(app):
    rules = alerts.rules_for(app)
    assert [r.kind for r in rules] == list(AlertRule.Kind.values)
    assert {r.kind: r.threshold for r in rules} == AlertRule.DEFAULT_THRESHOLDS
    assert len(alerts.rules_for(app)) == 5 and AlertRule.objects.filter(application=app).count() == 5
    with pytest.raises(ValidationError):
        alerts.update_rule(rules[0], threshold=-1)
    with pytest.raises(ValidationError):
        alerts.update_rule(rules[0], webhook_url="ftp://example.invalid/x")
    assert alerts.update_rule(rules[0], threshold=25, enabled=False).threshold == 25


def test_error_rate_raises_once_after_minimum_calls(app, record):
    for i in range(19):  # 19 errors out of 19 calls: under the minimum, no alert
        record_call(record(app.pk, code="5000"))
    assert not Alert.objects.exists()
    record_call(record(app.pk, code="5000"))
    assert _kinds(app) == [("error_rate", "detect")]
    alert = Alert.objects.get()
    assert alert.values["errors"] == 20 and alert.values["calls"] == 20 and alert.values["error_rate_pct"] == 100
    for _ in range(5):
        record_call(record(app.pk, code="5000"))
    assert Alert.objects.count() == 1  # still unacknowledged: not raised again
    user = get_user_model().objects.create_user("acker", password="x" * 12)
    alerts.acknowledge(alert, user)
    first = alert.acknowledged_at
    assert first is not None and alert.acknowledged_by == user
    assert alerts.acknowledge(alert, None).acknowledged_at == first  # idempotent
    alerts.evaluate(app)  # the calls before the acknowledgement do not raise it again
    assert Alert.objects.count() == 1
    assert list(queries.alert_list(app, include_acknowledged=False)) == []
    assert list(queries.alert_list([app])) == [alert]


def test_low_error_rate_and_success_do_not_alert(app, record):
    for i in range(100):
        record_call(record(app.pk, code="4105" if i % 20 == 19 else "0"))  # 5% at most: not over
    assert not Alert.objects.filter(kind="error_rate").exists()


def test_p95_latency_over_bound(app, record):
    for _ in range(19):
        record_call(record(app.pk, api="compare", latency_ms=100))
    record_call(record(app.pk, api="compare", latency_ms=120))
    assert not Alert.objects.exists()
    for _ in range(5):
        record_call(record(app.pk, api="compare", latency_ms=4000))  # 5 of 25 slow → p95 ≈ 3-5 s
    assert _kinds(app) == [("latency_p95", "compare")]
    assert Alert.objects.get().values["p95_ms"] > 2000


def test_quota_exhausted_once_until_acknowledged(app, record):
    record_call(record(app.pk, api="mask", code="4291"))
    record_call(record(app.pk, api="mask", code="4291"))
    assert _kinds(app) == [("quota_exhausted", "mask")]
    alerts.acknowledge(Alert.objects.get(), None)
    time.sleep(0.01)
    record_call(record(app.pk, api="mask", code="4291"))  # a new refusal after the ack: raised again
    assert Alert.objects.filter(kind="quota_exhausted").count() == 2


def test_pack_low_and_expiring(app, record):
    pack = grant_pack(app, "detect", calls=100, days=365)
    assert alerts.evaluate(app) == []
    ResourcePack.objects.filter(pk=pack.pk).update(calls_used=91)
    record_call(record(app.pk, api="detect", code="0"))  # a charged call checks pack_low
    assert _kinds(app) == [("pack_low", "detect")]
    low = Alert.objects.get()
    assert low.values["calls_left"] == 9 and low.values["pack_ids"] == [pack.pk]
    alerts.acknowledge(low, None)
    assert alerts.evaluate(app) == []  # the same packs never alert twice
    grant_pack(app, "liveness", calls=1000, days=20)
    assert evaluate_alerts() == 1  # the periodic task, run in-process
    assert _kinds(app) == [("pack_expiring", "liveness"), ("pack_low", "detect")]
    assert Alert.objects.get(kind="pack_expiring").values["days_left"] == pytest.approx(20, abs=0.1)
    assert alerts.evaluate(app) == []


def test_disabled_rule_does_not_alert(app, record):
    rule = next(r for r in alerts.rules_for(app) if r.kind == "quota_exhausted")
    alerts.update_rule(rule, enabled=False)
    record_call(record(app.pk, code="4291"))
    assert not Alert.objects.exists()


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append({"body": json.loads(body), "type": self.headers["Content-Type"]})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


def test_webhook_posts_json_to_a_real_server(app, record, receiver, settings):
    settings.FACEGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the receiver is on loopback
    url, received = receiver
    rule = next(r for r in alerts.rules_for(app) if r.kind == "quota_exhausted")
    alerts.update_rule(rule, webhook_url=url)
    record_call(record(app.pk, api="detect", code="4291"))
    alert = Alert.objects.get()
    assert alert.webhook_status == "HTTP 204"
    assert len(received) == 1 and received[0]["type"] == "application/json"
    body = received[0]["body"]
    assert body["alert_id"] == alert.pk and body["kind"] == "quota_exhausted" and body["app_key"] == app.app_key


def test_webhook_failure_is_recorded_not_raised(app, record, settings):
    settings.FACEGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    port = free_port()
    rule = next(r for r in alerts.rules_for(app) if r.kind == "quota_exhausted")
    alerts.update_rule(rule, webhook_url=f"http://127.0.0.1:{port}/hook")
    assert record_call(record(app.pk, code="4291")) is True
    assert Alert.objects.get().webhook_status == "error: ConnectionError"


def test_per_call_checks_are_throttled_and_the_periodic_check_catches_up(app, record, settings):
    settings.FACEGATE_ALERT_CHECK_SECONDS = 300
    from django.core.cache import cache

    cache.delete_many([f"facegate:alert-check:{app.pk}:detect"])
    for _ in range(25):
        record_call(record(app.pk, code="5000"))
    assert not Alert.objects.exists()  # checked on the first call only (1 call: under the minimum)
    record_call(record(app.pk, code="4291"))  # quota exhaustion is never throttled
    assert _kinds(app) == [("quota_exhausted", "detect")]
    assert evaluate_alerts() == 1
    assert _kinds(app) == [("error_rate", "detect"), ("quota_exhausted", "detect")]
