"""Accounts: sign-in throttling by account and address (held in the database, so across processes),
Django's full password validators plus ours ('alicealice' refused), changing the password, and the
audit log an owner reads in the console."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from apps_console.models import SignInFailure
from audit.models import AuditEvent
from billing import orders
from gateway import services
from monitoring import alerts as alert_service

pytestmark = pytest.mark.django_db
EMAIL, PASSWORD = "alice@example.com", "Sunflower-Gate-42"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user(EMAIL, EMAIL, PASSWORD)


def sign_in(password: str, email: str = EMAIL, address: str = "203.0.113.7", client: Client | None = None):
    client = client or Client()
    return client.post("/console/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def test_hundred_wrong_passwords_then_the_right_one_is_refused_while_locked(alice):
    codes = [sign_in(f"wrong-{i}").status_code for i in range(100)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    # Failures stop being recorded once locked, so the lock ends on time (bounded rows).
    assert SignInFailure.objects.filter(key=f"account:{EMAIL}").count() == 5
    locked = sign_in(PASSWORD)
    assert locked.status_code == 429 and "_auth_user_id" not in locked.client.session
    assert 'id="signin-locked"' in locked.content.decode()
    # Another address does not help: the account is locked wherever the attempt comes from.
    assert sign_in(PASSWORD, address="198.51.100.9").status_code == 429
    # The lock is in the database: once its time has passed, the right password works again.
    SignInFailure.objects.update(at=SignInFailure.objects.first().at - timedelta(minutes=16))
    ok = sign_in(PASSWORD)
    assert ok.status_code == 302 and ok["Location"] == "/console/"
    assert not SignInFailure.objects.filter(key=f"account:{EMAIL}").exists()


def test_one_address_guessing_many_accounts_is_locked(alice):
    for i in range(20):
        assert sign_in("guess", email=f"user{i}@example.com", address="192.0.2.1").status_code == 200
    assert sign_in(PASSWORD, address="192.0.2.1").status_code == 429
    assert sign_in(PASSWORD, address="192.0.2.2").status_code == 302


def test_password_validators_refuse_weak_passwords(alice):
    for weak in ["alicealice", "alice@example.com", "12345678901", "password1", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak, alice)
    validate_password("Sunflower-Gate-42", alice)


def test_password_change_page(alice):
    client = Client()
    client.force_login(alice)
    refused = client.post("/console/account/password/", {"old_password": PASSWORD, "new_password1": "alicealice",
                                                          "new_password2": "alicealice"})
    assert refused.status_code == 400 and "e-mail" in refused.content.decode()
    done = client.post("/console/account/password/", {"old_password": PASSWORD, "new_password1": "Quiet-Harbor-77",
                                                      "new_password2": "Quiet-Harbor-77"})
    assert done.status_code == 302 and done["Location"] == "/console/account/password/"
    assert "Your password has been changed." in client.get(done["Location"]).content.decode()
    alice.refresh_from_db()
    assert alice.check_password("Quiet-Harbor-77")
    assert AuditEvent.objects.filter(action="password_changed", actor=alice).exists()


def test_audit_log_records_owner_and_admin_actions(alice):
    User = get_user_model()
    admin = User.objects.create_user("root@example.com", "root@example.com", "Root-Pass-9931", is_staff=True)
    bob = User.objects.create_user("bob@example.com", "bob@example.com", "Bob-Pass-8812")
    client = Client()
    client.force_login(alice)
    client.post("/console/apps/new/", {"name": "door-camera", "description": ""})
    app = alice.applications.get()
    client.post(f"/console/apps/{app.pk}/rotate/")
    client.post(f"/console/apps/{app.pk}/status/", {"active": "0"})
    paid = orders.create_order(alice, app, "detect", "100k", 1)
    client.post(f"/console/orders/{paid.pk}/pay/")
    dropped = orders.create_order(alice, app, "detect", "100k", 1)
    client.post(f"/console/orders/{dropped.pk}/cancel/")
    orders.grant_pack(app, "mask", calls=50, days=10, granted_by=admin)
    rule = alert_service.rules_for(app)[0]
    alert_service.update_rule(rule, threshold=rule.threshold + 1, actor=alice)
    actions = list(AuditEvent.objects.filter(application_id=app.pk).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["app_created", "secret_rotated", "app_disabled", "order_paid", "order_cancelled",
                       "pack_granted", "rule_changed"]
    page = client.get("/console/account/activity/").content.decode()
    for words in ["App created", "AppSecret rotated", "App disabled", "Order paid", "Order cancelled",
                  "Pack granted", "Alert rule changed", "root@example.com", "door-camera"]:
        assert words in page, words
    # Another owner sees none of it; an admin sees all of it.
    bob_client = Client()
    bob_client.force_login(bob)
    assert "door-camera" not in bob_client.get("/console/account/activity/").content.decode()
    admin_client = Client()
    admin_client.force_login(admin)
    assert admin_client.get("/console/account/activity/").content.decode().count("door-camera") == 7
    # The service behind the command line records with no actor.
    app.refresh_from_db()
    services.set_status(app, True)
    assert AuditEvent.objects.filter(action="app_enabled", actor__isnull=True).exists()


def test_the_admin_sign_in_is_throttled_too(alice):
    get_user_model().objects.filter(pk=alice.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(5):
        client.post("/admin/login/?next=/admin/", {"username": EMAIL, "password": "nope"}, REMOTE_ADDR="203.0.113.8")
    locked = client.post("/admin/login/?next=/admin/", {"username": EMAIL, "password": PASSWORD},
                         REMOTE_ADDR="203.0.113.8")
    assert locked.status_code == 429
    SignInFailure.objects.all().delete()
    ok = client.post("/admin/login/?next=/admin/", {"username": EMAIL, "password": PASSWORD, "next": "/admin/"},
                     REMOTE_ADDR="203.0.113.8")
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
