"""Alert webhooks cannot be aimed at our own network: private, loopback and link-local targets are
refused when the rule is saved and again at delivery (after DNS resolution, on every redirect);
an allow-listed internal host is reached; a receiver that never answers is cut off in time. Real
HTTP servers on loopback, a real alert raised by a recorded 4291 call."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from gateway.services import create_application
from monitoring import alerts
from monitoring.models import Alert, AlertRule
from monitoring.tasks import record_call

REFUSED_URLS = [
    "http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data/",
    "http://localhost:8000/hook", "http://[::1]/hook", "http://0.0.0.0/hook", "http://192.168.0.10/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[fe80::1]/hook", "https://100.64.0.1/hook",
]


class Receiver(BaseHTTPRequestHandler):
    redirect_to = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append({"path": self.path, "host": self.headers["Host"], "body": body})
        if self.redirect_to:
            self.send_response(307)
            self.send_header("Location", self.redirect_to)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _serve(address: str, redirect_to: str = "") -> tuple[HTTPServer, str]:
    handler = type("Handler", (Receiver,), {"redirect_to": redirect_to})
    server = HTTPServer((address, 0), handler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{address}:{server.server_port}/hook"


@pytest.fixture
def servers() -> Iterator[list[HTTPServer]]:
    started: list[HTTPServer] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def app(db):
    owner = get_user_model().objects.create_user(f"hook-{uuid.uuid4().hex[:6]}", password="x" * 16)
    application, _ = create_application(owner, f"hook{uuid.uuid4().hex[:6]}")
    return application


def _rule(app) -> AlertRule:
    return next(r for r in alerts.rules_for(app) if r.kind == "quota_exhausted")


def _raise_alert(app) -> Alert:
    record_call({"request_id": uuid.uuid4().hex, "app_id": app.pk, "api": "detect", "code": "4291",
                 "latency_ms": 5.0, "bytes_in": 10, "bytes_out": 10, "ts": time.time()})
    return Alert.objects.get(application=app)


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_internal_targets_are_refused_when_saved(app, url):
    with pytest.raises(ValidationError, match="refused"):
        alerts.update_rule(_rule(app), webhook_url=url)


def test_internal_target_stored_earlier_is_refused_at_delivery(app, servers):
    server, url = _serve("127.0.0.1")
    servers.append(server)
    # Saved before the check existed (or a name that later resolves inside): delivery checks again.
    AlertRule.objects.filter(pk=_rule(app).pk).update(webhook_url=url.replace("127.0.0.1", "localhost"))
    alert = _raise_alert(app)
    assert alert.webhook_status.startswith("refused: localhost is loopback"), alert.webhook_status
    assert alert.webhook_attempted_at is not None
    assert server.received == []


def test_allow_listed_internal_host_receives_the_alert(app, servers, settings):
    settings.FACEGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server, url = _serve("127.0.0.1")
    servers.append(server)
    alerts.update_rule(_rule(app), webhook_url=url + "?team=ops")
    alert = _raise_alert(app)
    assert alert.webhook_status == "HTTP 204"
    [got] = server.received
    assert got["path"] == "/hook?team=ops" and got["host"] == f"127.0.0.1:{server.server_port}"
    assert json.loads(got["body"])["alert_id"] == alert.pk


def test_redirect_to_an_internal_target_is_refused(app, servers, settings):
    settings.FACEGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    inner, inner_url = _serve("127.0.0.2")  # loopback too, but not allow-listed
    outer, outer_url = _serve("127.0.0.1", redirect_to=inner_url)
    servers.extend([inner, outer])
    alerts.update_rule(_rule(app), webhook_url=outer_url)
    alert = _raise_alert(app)
    assert alert.webhook_status == "refused: 127.0.0.2 is loopback", alert.webhook_status
    assert len(outer.received) == 1 and inner.received == []


def test_a_receiver_that_never_answers_is_cut_off(app, settings):
    settings.FACEGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.FACEGATE_WEBHOOK_TIMEOUT = 1.0
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does), never replies
    try:
        alerts.update_rule(_rule(app), webhook_url=f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        started = time.monotonic()
        alert = _raise_alert(app)
        took = time.monotonic() - started
    finally:
        silent.close()
    assert alert.webhook_status == "error: Timeout"
    assert took < 3.0, took
