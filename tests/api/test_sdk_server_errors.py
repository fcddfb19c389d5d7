"""The SDK retries a 5000 with a fresh signature, through the real gateway (in-process live server)
whose face backend is unreachable: every attempt is a real 5000, none is charged."""
from __future__ import annotations

import pytest

from billing.models import Charge
from billing.orders import grant_pack
from facegate.client import Client, ServerError
from gateway.services import create_application
from facegate.procs import free_port
from tests.api.counting import CountingSession

pytestmark = pytest.mark.django_db(transaction=True)


def test_5000_is_retried_then_raised(live_server, settings, django_user_model, shared_dir):
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}"]
    owner = django_user_model.objects.create_user("sdk@example.com", "sdk@example.com", "pw-123456")
    app, secret = create_application(owner, "sdk-retries")
    grant_pack(app, "detect", 10, 30)
    session = CountingSession()
    client = Client(live_server.url, app.app_key, secret, {"detect": app.service_code_for("detect")},
                    retries=2, backoff=0.01, session=session)
    with pytest.raises(ServerError) as failed:
        client.detect(shared_dir / "data" / "photos" / "009_C.jpg")
    assert failed.value.code == "5000" and failed.value.request_id in failed.value.details
    assert len(session.signs) == 3 and len(set(session.signs)) == 3
    assert Charge.objects.count() == 3 and not Charge.objects.exclude(status="released").exists()
