"""Every gateway auth code on the real view, in-process (no backend is reached: auth fails first,
or the app has no pack so the call stops at 4291 — proof that auth passed)."""
from __future__ import annotations

import hashlib
import time

import pytest

from facegate.signing import sign, verify

pytestmark = pytest.mark.django_db


def test_sign_vectors():
    # Vector computed independently: md5 over the concatenated text, the JSON exactly as sent
    # (with the escaped newline that base64.encodebytes leaves in json.dumps output).
    body = b'{"imageContent": "aGk=\\n"}'
    path = "/v1/aiop/api/abc/face/PERSON/person/detectFaceFromBase64"
    assert sign("AK", "SEC", "1700000000000", path, body) == "7069d28d6871c12f0c6d2df5984daeab"
    # Body bytes are hashed raw: non-UTF-8 bytes must not break signing.
    assert sign("k", "s", "1", "/p", b"\xff") == hashlib.md5(b"ks1/p\xff").hexdigest()


def test_verify_is_exact():
    good = sign("k", "s", "1", "/p", b"")
    assert verify(good, good)
    assert not verify(good, good.upper())
    assert not verify(good, good[:-1])
    assert not verify(good, "é" * 32)


@pytest.mark.parametrize("header", ["AppKey", "Timestamp", "Sign"])
def test_missing_header_4001(call, header):
    assert call(drop=(header,))["code"] == "4001"


@pytest.mark.parametrize("header", ["AppKey", "Timestamp", "Sign"])
def test_empty_header_4001(call, header):
    assert call(headers={header: ""})["code"] == "4001"


def test_non_numeric_timestamp_4001(call):
    assert call(timestamp="abc")["code"] == "4001"


def test_unknown_app_4002(call):
    assert call(app_key="0" * 32)["code"] == "4002"


def test_disabled_app_4002(call, app_and_secret):
    from gateway.services import set_status
    set_status(app_and_secret[0], False)
    reply = call()
    assert reply["code"] == "4002" and reply["message"] == "error"


def test_bad_sign_4003(call):
    assert call(secret_="wrong-secret")["code"] == "4003"


def test_rotated_secret_old_one_4003(call, app_and_secret):
    from gateway.services import rotate_secret
    new = rotate_secret(app_and_secret[0])
    assert call()["code"] == "4003"
    assert call(secret_=new)["code"] == "4291"


@pytest.mark.parametrize("offset_s", [-301, 301])
def test_stale_timestamp_4004(call, offset_s):
    ts = str(int((time.time() + offset_s) * 1000))
    assert call(timestamp=ts)["code"] == "4004"


def test_timestamp_in_seconds_4004(call):
    assert call(timestamp=str(int(time.time())))["code"] == "4004"


def test_replay_4004(call):
    ts = str(int(time.time() * 1000))
    assert call(timestamp=ts)["code"] == "4291"  # authenticated; no pack
    assert call(timestamp=ts)["code"] == "4004"


def test_bad_sign_is_not_recorded_for_replay(call):
    """A garbage Sign fails 4003 and is not cached, so it cannot block or fill the replay cache."""
    from gateway.models import SeenSign
    call(secret_="wrong")
    assert SeenSign.objects.count() == 0


def test_other_apps_service_code_4005(call, owner):
    from gateway.services import create_application
    other, _ = create_application(owner, "otherapp")
    assert call(code=other.service_code_for("detect"))["code"] == "4005"


def test_wrong_apis_service_code_4005(call, app_and_secret):
    app = app_and_secret[0]
    # The compare code used on the detect path.
    assert call(api="detect", code=app.service_code_for("compare"))["code"] == "4005"


def test_unknown_api_path_4005(call, app_and_secret):
    app = app_and_secret[0]
    path = f"/v1/aiop/api/{app.service_code_for('detect')}/face/nothing/here"
    assert call(path=path)["code"] == "4005"


def test_no_pack_4291_writes_nothing(call):
    from billing.models import Charge
    assert call()["code"] == "4291"
    assert Charge.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "put", "delete", "options", "patch"])
def test_other_methods_get_a_wire_reply(client, app_and_secret, method):
    app = app_and_secret[0]
    response = getattr(client, method)(f"/v1/aiop/api/{app.service_code_for('detect')}/face/PERSON/person/detectFaceFromBase64")
    assert response.status_code == 200 and response.json()["code"] == "4102"
    assert response["X-Request-Id"]


def test_rate_limit_4292(call, app_and_secret):
    app = app_and_secret[0]
    app.rate_limit_per_second = 1
    app.save()
    codes = [call(timestamp=str(int(time.time() * 1000) + i))["code"] for i in range(3)]
    # At most one call per second passes auth; within three calls at least one is refused.
    assert "4292" in codes and set(codes) <= {"4291", "4292"}


def test_rate_counter_per_second(app_and_secret):
    from gateway import ratelimit
    app = app_and_secret[0]
    app.rate_limit_per_second = 3
    assert [ratelimit.allow(app, now=1000.2) for _ in range(4)] == [True, True, True, False]
    assert ratelimit.allow(app, now=1001.0)  # a new second starts a new count
    assert [ratelimit.allow(app, now=1001.5) for _ in range(3)] == [True, True, False]


def test_auth_reads_app_and_service_code_in_one_query(call, app_and_secret, django_assert_num_queries):
    """The hot path reads the app and checks its service code in a single SELECT: a call that
    fails its signature after the app was found costs exactly that one query."""
    from facegate.apis import public_path
    path = public_path(app_and_secret[0].service_code_for("detect"), "detect")
    with django_assert_num_queries(1):
        assert call(path=path, secret_="wrong")["code"] == "4003"
