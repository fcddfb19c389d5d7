"""The gateway's side of library administration, on the database alone (the backend unreachable): the
face limit is refused from a signed call before anything is forwarded; deleting an app kills its
keys at once and leaves an outbox row that a failed purge keeps, with its error, for the next run.
(The purge against a real backend: tests/e2e/test_library_e2e.py.)"""
from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from facegate.apis import public_path
from facegate.procs import free_port
from gateway.library_admin import purge_deleted_apps
from gateway.models import Application, LibraryPurge
from gateway.services import delete_application, set_status

pytestmark = pytest.mark.django_db(transaction=True)


def _settings_path(app) -> str:
    return public_path(app.service_code_for("library"), "library", "app/settings")


def test_face_limit_is_the_operators(call, app_and_secret, settings):
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}"]
    app = app_and_secret[0]
    refused = call("library", json.dumps({"face_limit": 10**9}).encode(), path=_settings_path(app))
    assert refused["code"] == "4102" and "operator" in refused["details"]
    # Without it the call is forwarded (free: no pack needed), here to a backend that is down.
    assert call("library", b'{"operating_point": "1e-5"}', path=_settings_path(app))["code"] == "5000"


def test_deleting_an_app_kills_its_keys_and_queues_its_library(call, app_and_secret, settings):
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}"]
    app = app_and_secret[0]
    delete_application(app)
    delete_application(app)  # twice: one row, one event
    assert Application.objects.get(pk=app.pk).status == "deleted"
    assert AuditEvent.objects.filter(action="app_deleted", application_id=app.pk).count() == 1
    assert call("library", b"{}", path=_settings_path(app))["code"] == "4002"
    with pytest.raises(ValidationError):
        set_status(app, True)

    assert purge_deleted_apps() == (0, 1)
    assert purge_deleted_apps() == (0, 1)
    pending = LibraryPurge.objects.get(application=app)
    assert pending.attempts == 2 and "5000" in pending.last_error and pending.last_attempt_at is not None
