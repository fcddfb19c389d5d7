"""A call that fails half-way: the backend is unreachable → 5000, and the reservation is released."""
from __future__ import annotations

import pytest

from billing.models import Charge, ResourcePack
from billing.orders import grant_pack
from facegate.procs import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_backend_down_5000_releases_the_call(call, app_and_secret, settings):
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    pack = grant_pack(app_and_secret[0], "detect", 3, 30)
    reply = call()
    assert reply["code"] == "5000" and "request" in reply["details"]
    pack.refresh_from_db()
    assert pack.calls_used == 0
    assert not Charge.objects.filter(status__in=["charged", "reserved"]).exists()
    assert ResourcePack.objects.get(pk=pack.pk).calls_left == 3


def test_request_id_in_5000_details_matches_header(client, app_and_secret, settings):
    """The id is ours (the ledger and monitoring key on it); the client's own id is only echoed."""
    from facegate.apis import public_path
    from facegate.client import signed_headers
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}"]
    app, secret = app_and_secret
    grant_pack(app, "compare", 1, 30)
    path = public_path(app.service_code_for("compare"), "compare")
    body = b'{"img1Base64": "", "img2Base64": ""}'
    headers = {f"HTTP_{k.upper()}": v for k, v in signed_headers(app.app_key, secret, path, body).items()
               if k != "Content-Type"}
    response = client.post(path, data=body, content_type="application/json", HTTP_X_REQUEST_ID="client-id-123", **headers)
    assert response.json()["code"] == "5000"
    ours = response["X-Request-Id"]
    assert ours != "client-id-123" and ours in response.json()["details"]
    assert response["X-Client-Request-Id"] == "client-id-123"
    assert Charge.objects.get().request_id == ours


def test_client_request_id_cannot_shadow_another_call(call, client, app_and_secret, settings):
    """An unsigned request carrying X-Request-Id R must not make monitoring drop a later call with R."""
    from monitoring.models import CallRecord
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    grant_pack(app_and_secret[0], "detect", 5, 30)
    assert call(headers={"X-Request-Id": "victim-id-0001"}, drop=("Sign",))["code"] == "4001"
    first = call(headers={"X-Request-Id": "victim-id-0001"})
    second = call(headers={"X-Request-Id": "victim-id-0001"}, timestamp=str(int(__import__("time").time() * 1000) + 1))
    assert first["code"] == second["code"] == "5000"
    assert Charge.objects.count() == 2
    assert CallRecord.objects.filter(code="5000", application=app_and_secret[0]).count() == 2


@pytest.mark.parametrize("body", [b"", b"\xff\xfe\x00", b"not json", b"[1,2]", b'{"imageContent": 5}'])
def test_odd_bodies_never_500(call, body):
    # Signed correctly, no pack: the gateway answers a wire code, never an HTTP 500.
    assert call(body=body)["code"] == "4291"
