"""Console views through Django's test client: access control, per-owner isolation, forms, buying,
alerts and the language switch. The services behind them are the real ones (no mocks)."""
from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.contrib.auth import get_user_model
from django.test import Client

from billing import orders
from billing.models import Order, ResourcePack
from gateway import services
from monitoring import alerts as alert_service
from monitoring.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    User = get_user_model()
    alice = User.objects.create_user("alice", "alice@example.com", "pw-alice-123")
    bob = User.objects.create_user("bob", "bob@example.com", "pw-bob-123")
    admin = User.objects.create_user("root", "root@example.com", "pw-root-123", is_staff=True)
    return alice, bob, admin


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_required_everywhere(users):
    anon = Client()
    for url in ["/console/", "/console/apps/", "/console/buy/", "/console/monitoring/",
                "/console/monitoring/data/", "/console/alerts/", "/console/try/", "/console/orders/",
                "/console/library/"]:
        response = anon.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), url


def test_sign_in_and_out_with_csrf(users):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/console/login/")
    token = page.cookies["csrftoken"].value
    assert client.post("/console/login/", {"username": "alice", "password": "wrong"}).status_code == 403
    response = client.post("/console/login/", {"username": "alice", "password": "pw-alice-123",
                                               "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert response.cookies["sessionid"]["httponly"]
    assert client.get("/console/apps/").status_code == 200
    token = client.cookies["csrftoken"].value
    client.post("/console/logout/", {"csrfmiddlewaretoken": token})
    assert client.get("/console/apps/").status_code == 302


def test_create_app_validation_error_and_secret_shown_once(users):
    alice = users[0]
    client = client_for(alice)
    for bad in ["abc", "x" * 16]:
        response = client.post("/console/apps/new/", {"name": bad, "description": ""})
        assert response.status_code == 400
        assert "4 to 15 characters" in response.content.decode()
    response = client.post("/console/apps/new/", {"name": "shop-door", "description": "front door"})
    # Post/redirect/get: the POST creates and redirects; the page with the secret is a GET.
    assert response.status_code == 302 and "?reveal=" in response["Location"]
    app = alice.applications.get()
    shown = client.get(response["Location"])
    page = shown.content.decode()
    secret = shown.context["secret"]
    assert secret and secret in page and app.app_key in page
    assert "no-store" in shown["Cache-Control"]
    assert app.app_secret_encrypted != secret and secret not in app.app_secret_encrypted
    assert secret not in str(dict(client.session))  # the session holds a token, never the secret
    # Reloading the revealed page shows the secret no more, and creates nothing.
    again = client.get(response["Location"]).content.decode()
    assert secret not in again and 'id="secret-spent"' in again
    assert alice.applications.count() == 1
    detail = client.get(f"/console/apps/{app.pk}/").content.decode()
    assert secret not in detail and app.app_key in detail
    # Every API's service code and full request URL, with signed curl and Python examples.
    for sc in app.service_codes.all():
        assert sc.code in detail
    assert f"http://testserver/v1/aiop/api/{app.service_code_for('detect')}/face/PERSON/person/detectFaceFromBase64" in detail
    assert "md5sum" in detail and "hashlib.md5" in detail
    rotated = client.post(f"/console/apps/{app.pk}/rotate/")
    assert rotated.status_code == 302 and "?reveal=" in rotated["Location"]
    new_secret = client.get(rotated["Location"]).context["secret"]
    app.refresh_from_db()
    assert new_secret != secret and app.app_secret == new_secret
    # Reloading the rotate result (a GET) does not rotate again: the copied secret keeps working.
    client.get(rotated["Location"])
    app.refresh_from_db()
    assert app.app_secret == new_secret
    # A token is for its own app only.
    other, _ = services.create_application(alice, "other-app")
    token = client.post(f"/console/apps/{app.pk}/rotate/")["Location"].split("?reveal=")[1]
    assert client.get(f"/console/apps/{other.pk}/?reveal={token}").context["secret"] is None


def test_disable_and_enable(users):
    alice = users[0]
    app, _ = services.create_application(alice, "toggle-me")
    client = client_for(alice)
    client.post(f"/console/apps/{app.pk}/status/", {"active": "0"})
    app.refresh_from_db()
    assert not app.is_active
    client.post(f"/console/apps/{app.pk}/status/", {"active": "1"})
    app.refresh_from_db()
    assert app.is_active


def test_per_owner_isolation(users):
    alice, bob, admin = users
    app, _ = services.create_application(alice, "alice-app")
    services.create_application(bob, "bob-app")
    order = orders.create_order(alice, app, "detect", "100k", 1)
    bob_client = client_for(bob)
    assert "alice-app" not in bob_client.get("/console/apps/").content.decode()
    for url in [f"/console/apps/{app.pk}/", f"/console/apps/{app.pk}/alert-rules/",
                f"/console/orders/{order.pk}/", f"/console/monitoring/data/?app={app.pk}"]:
        assert bob_client.get(url).status_code == 404, url
    for url in [f"/console/apps/{app.pk}/rotate/", f"/console/apps/{app.pk}/status/",
                f"/console/orders/{order.pk}/pay/"]:
        assert bob_client.post(url).status_code == 404, url
    assert bob_client.post("/console/buy/", {"application": app.pk, "api": "detect", "tier": "100k",
                                             "quantity": 1}).status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED
    admin_list = client_for(admin).get("/console/apps/").content.decode()
    assert "alice-app" in admin_list and "bob-app" in admin_list
    assert client_for(admin).get(f"/console/apps/{app.pk}/").status_code == 200


def test_buy_flow_creates_order_and_packs(users):
    alice = users[0]
    app, _ = services.create_application(alice, "buyer-app")
    client = client_for(alice)
    response = client.post("/console/buy/", {"application": app.pk, "api": "detect", "tier": "100k", "quantity": 2})
    order = Order.objects.get(application=app)
    assert response.status_code == 302 and response["Location"] == f"/console/orders/{order.pk}/"
    confirm = client.get(response["Location"]).content.decode()
    assert "200.00" in confirm and 'id="pay"' in confirm
    client.post(f"/console/orders/{order.pk}/pay/")
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE and order.paid_by == alice
    packs = ResourcePack.objects.filter(order=order)
    assert packs.count() == 2 and all(p.calls_total == 100_000 for p in packs)
    page = client.get(f"/console/orders/{order.pk}/").content.decode()
    assert 'id="packs"' in page and 'id="pay"' not in page
    detail = client.get(f"/console/apps/{app.pk}/").content.decode()
    assert "200,000" in detail  # remaining calls for detect, with a thousands separator


def test_acknowledge_alert_and_rules(users):
    alice, bob, _ = users
    app, _ = services.create_application(alice, "alerting")
    pack = orders.grant_pack(app, "detect", calls=100, days=365)
    ResourcePack.objects.filter(pk=pack.pk).update(calls_used=95)  # 5% left: under the 10% rule
    raised = alert_service.evaluate(app)
    alert = Alert.objects.get(application=app, kind="pack_low")
    assert alert in raised
    client = client_for(alice)
    page = client.get("/console/alerts/").content.decode()
    assert f'data-alert="{alert.pk}"' in page
    assert client_for(bob).post(f"/console/alerts/{alert.pk}/ack/").status_code == 404
    response = client.post(f"/console/alerts/{alert.pk}/ack/", {"next": "https://evil.example/"})
    assert response["Location"] == "/console/alerts/"
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.acknowledged_by == alice
    assert f'data-alert="{alert.pk}"' not in client.get("/console/alerts/").content.decode()
    # Rules: change a threshold and a webhook, disable one.
    form = {}
    for rule in alert_service.rules_for(app):
        form[f"{rule.kind}-threshold"] = rule.threshold
        form[f"{rule.kind}-enabled"] = "on"
    form["pack_low-threshold"] = "25"
    form["error_rate-webhook_url"] = "https://hooks.example.com/x"
    del form["latency_p95-enabled"]
    assert client.post(f"/console/apps/{app.pk}/alert-rules/", form).status_code == 302
    rules = {r.kind: r for r in alert_service.rules_for(app)}
    assert rules["pack_low"].threshold == 25 and not rules["latency_p95"].enabled
    assert rules["error_rate"].webhook_url == "https://hooks.example.com/x"
    form["pack_low-threshold"] = "-1"
    assert client.post(f"/console/apps/{app.pk}/alert-rules/", form).status_code == 400
    # A webhook the service refuses (the form alone would take ftp://) is an error on that rule, not a 500,
    # and no rule is half saved.
    form["pack_low-threshold"] = "30"
    form["error_rate-webhook_url"] = "ftp://hooks.example.com/x"
    refused = client.post(f"/console/apps/{app.pk}/alert-rules/", form)
    assert refused.status_code == 400 and "cannot receive alerts" in refused.content.decode()
    assert {r.kind: r for r in alert_service.rules_for(app)}["pack_low"].threshold == 25


def test_monitoring_data_endpoint(users):
    alice = users[0]
    app, _ = services.create_application(alice, "watched")
    client = client_for(alice)
    for period in ["hour", "day", "month"]:
        data = client.get(f"/console/monitoring/data/?app={app.pk}&api=detect&period={period}").json()
        assert len(data["series"]["labels"]) == {"hour": 60, "day": 24, "month": 30}[period]
        assert data["summary"]["count"] == 0 and data["codes"] == {}
    assert client.get("/console/monitoring/data/?period=year").status_code == 400
    assert client.get("/console/monitoring/data/?app=abc").status_code == 404
    assert client.get("/console/monitoring/").status_code == 200


def test_tryit_requires_csrf_and_valid_body(users):
    alice = users[0]
    app, _ = services.create_application(alice, "trying")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    body = json.dumps({"app": app.pk, "api": "detect", "images": [""]})
    assert client.post("/console/try/run/", body, content_type="application/json").status_code == 403
    client.get("/console/try/")
    token = client.cookies["csrftoken"].value
    bad = client.post("/console/try/run/", "not json", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert bad.status_code == 400 and bad.json()["reply"]["code"] == "4102"
    # No pack yet: the gateway's own quota check answers 4291 (proof the call went through it).
    reply = client.post("/console/try/run/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert reply.status_code == 200 and reply.json()["reply"]["code"] == "4291"
    assert reply.json()["charged"] is False and reply.json()["remaining"] == 0


def test_language_switch_renders_chinese(users):
    client = client_for(users[0])
    assert "My apps" in client.get("/console/apps/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/console/apps/"})
    page = client.get("/console/apps/").content.decode()
    assert "我的应用" in page and "购买资源包" in page and "退出" in page
    buy_page = client.get("/console/buy/").content.decode()
    assert "人脸检测" in buy_page and "100,000 次" in buy_page  # API titles and tiers follow the language
    app, _ = services.create_application(users[0], "zh-rules")
    assert "额度已用尽" in client.get(f"/console/apps/{app.pk}/alert-rules/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/console/apps/"})
    assert "My apps" in client.get("/console/apps/").content.decode()


def test_every_form_redirects_and_a_reload_repeats_nothing(users):
    """Post/redirect/get: each POST answers with a redirect to a GET page showing what happened;
    following it again (a reload) changes nothing."""
    alice = users[0]
    client = client_for(alice)
    app, _ = services.create_application(alice, "prg-app")
    order = orders.create_order(alice, app, "detect", "100k", 1)
    pack = orders.grant_pack(app, "detect", calls=100, days=365)
    ResourcePack.objects.filter(pk=pack.pk).update(calls_used=95)
    alert_service.evaluate(app)
    alert = Alert.objects.get(application=app, kind="pack_low")
    rules = {f"{r.kind}-threshold": r.threshold for r in alert_service.rules_for(app)}
    posts = [
        ("/console/apps/new/", {"name": "second-app", "description": ""}, None),
        (f"/console/apps/{app.pk}/rotate/", {}, None),
        (f"/console/apps/{app.pk}/status/", {"active": "0"}, "The app is disabled"),
        (f"/console/apps/{app.pk}/alert-rules/", rules, "Alert rules saved."),
        (f"/console/alerts/{alert.pk}/ack/", {}, "Alert acknowledged."),
        ("/console/buy/", {"application": app.pk, "api": "detect", "tier": "100k", "quantity": 1}, None),
        (f"/console/orders/{order.pk}/pay/", {}, "Paid: the packs are active now."),
    ]
    for url, data, message in posts:
        response = client.post(url, data)
        assert response.status_code == 302, url
        before = (Alert.objects.count(), Order.objects.count(), ResourcePack.objects.count(),
                  alice.applications.count(), app.__class__.objects.get(pk=app.pk).app_secret_encrypted)
        page = client.get(response["Location"])
        assert page.status_code == 200, url
        if message:
            assert message in page.content.decode(), url
        client.get(response["Location"])  # the reload
        after = (Alert.objects.count(), Order.objects.count(), ResourcePack.objects.count(),
                 alice.applications.count(), app.__class__.objects.get(pk=app.pk).app_secret_encrypted)
        assert before == after, url


def test_unpaid_order_can_be_cancelled_once(users):
    alice = users[0]
    app, _ = services.create_application(alice, "cancelling")
    order = orders.create_order(alice, app, "detect", "100k", 1)
    client = client_for(alice)
    response = client.post(f"/console/orders/{order.pk}/cancel/")
    assert response["Location"] == f"/console/orders/{order.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "The order is cancelled." in page and 'id="pay"' not in page and 'id="cancel-order"' not in page
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    with pytest.raises(ValidationError):
        orders.pay_order(order, alice)  # a cancelled order cannot be paid
    paid = orders.pay_order(orders.create_order(alice, app, "detect", "100k", 1), alice)
    with pytest.raises(ValidationError):
        orders.cancel_order(paid, alice)
    assert ResourcePack.objects.filter(order=order).count() == 0


def test_tryit_oversize_photo_is_refused_before_the_gateway_and_not_charged(users):
    alice = users[0]
    app, _ = services.create_application(alice, "big-photo")
    pack = orders.grant_pack(app, "detect", calls=10, days=30)
    client = client_for(alice)
    big = "A" * (4 * (2 * 1024 * 1024 // 3 + 10))  # decodes to just over 2 MB
    reply = client.post("/console/try/run/", json.dumps({"app": app.pk, "api": "detect", "images": [big]}),
                        content_type="application/json").json()
    assert reply["reply"]["code"] == "4103" and reply["charged"] is False and reply["remaining"] == 10
    pack.refresh_from_db()
    assert pack.calls_used == 0


def test_styled_404_and_open_alert_count_in_navigation(users):
    alice = users[0]
    app, _ = services.create_application(alice, "counting")
    pack = orders.grant_pack(app, "detect", calls=1000, days=365)
    ResourcePack.objects.filter(pk=pack.pk).update(calls_used=995)
    alert_service.evaluate(app)
    client = client_for(alice)
    missing = client.get("/console/apps/987654/")
    assert missing.status_code == 404 and 'id="error-page"' in missing.content.decode()
    assert 'data-nav="apps"' in missing.content.decode()  # the navigation is there
    page = client.get("/console/apps/").content.decode()
    assert 'id="open-alerts"' in page and ">1</span>" in page
    assert '<strong class="remaining">5</strong> / 1,000' in page  # remaining calls, thousands separators


def test_library_forms_redirect_refuse_bad_input_before_the_gateway_and_stay_with_the_owner(users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice, bob, _ = users
    app, _ = services.create_application(alice, "library-app")
    pack = orders.grant_pack(app, "library", calls=5, days=30)
    client = client_for(alice)
    page = f"/console/library/?app={app.pk}"
    assert client.get(page).status_code == 200
    # A bad id and an oversize photo are refused in words, with a redirect (PRG), before any call.
    bad = client.post(f"/console/library/{app.pk}/group-add/", {"group_id": "no spaces!"})
    assert bad.status_code == 302 and bad["Location"].startswith("/console/library/?app=")
    assert "Ids are 1 to 128 letters" in client.get(bad["Location"]).content.decode()
    big = SimpleUploadedFile("big.jpg", b"\xff" * (2 * 1024 * 1024 + 1), content_type="image/jpeg")
    refused = client.post(f"/console/library/{app.pk}/enrol/", {"group_id": "staff", "user_id": "ann", "photo": big})
    assert refused.status_code == 302
    assert "Photo over 2 MB (4103)" in client.get(refused["Location"]).content.decode()
    pack.refresh_from_db()
    assert pack.calls_used == 0
    # Another owner's app, an unknown action and a GET to an action are refused.
    assert client_for(bob).post(f"/console/library/{app.pk}/group-add/", {"group_id": "x"}).status_code == 404
    assert client.post(f"/console/library/{app.pk}/nonsense/", {}).status_code == 404
    assert client.get(f"/console/library/{app.pk}/group-add/").status_code == 405


def test_delete_app_for_good_from_the_console(users):
    """Delete kills the keys, queues the library purge (no backend runs here, so it stays pending) and
    leaves a page that offers no way back: enable and rotate are refused in words, never a 500."""
    from gateway.models import Application, LibraryPurge
    alice, bob = users[0], users[1]
    app, _ = services.create_application(alice, "delete-me")
    assert client_for(bob).post(f"/console/apps/{app.pk}/delete/").status_code == 404
    client = client_for(alice)
    response = client.post(f"/console/apps/{app.pk}/delete/", follow=True)
    app.refresh_from_db()
    assert app.status == Application.Status.DELETED and LibraryPurge.objects.filter(application=app).exists()
    page = response.content.decode()
    assert "The app is deleted" in page and 'id="delete-app"' not in page and 'id="rotate"' not in page
    secret_before = app.app_secret_encrypted
    for url, data in ((f"/console/apps/{app.pk}/status/", {"active": "1"}), (f"/console/apps/{app.pk}/rotate/", {})):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200 and "cannot be enabled again" in response.content.decode()
    app.refresh_from_db()
    assert app.status == Application.Status.DELETED and app.app_secret_encrypted == secret_before
    assert ">deleted</span>" in client.get("/console/apps/").content.decode()
    assert "App deleted" in client.get("/console/account/activity/").content.decode()
