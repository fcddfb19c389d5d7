"""Wire edges on the real gateway server (`facegate gateway`, waitress): every API-path reply is wire JSON with HTTP 200, the Sign
covers the raw path and query as sent, chunked bodies are read, and an oversized body is 4103
before authentication. No face backend is needed: a call that passed auth stops at 4291 (no pack)."""
from __future__ import annotations

import json

import pytest
import requests

from facegate.apis import public_path
from facegate.client import signed_headers
from gw_live import admin, stack_env
from facegate.procs import PY, free_port, start, stop, wait_ok

BODY = b'{"imageContent": "aGVsbG8="}'


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    data = tmp_path_factory.mktemp("edges")
    env = stack_env(data, None, f"http://127.0.0.1:{free_port()}")
    app = admin(env, "create-app", "--name", "edges")
    port = free_port()
    log = data / "gunicorn.log"
    proc = start([PY, "-m", "facegate.cli", "gateway", "--host", "127.0.0.1", "--port", str(port),
                  "--workers", "1"], env, log)
    try:
        wait_ok(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield f"http://127.0.0.1:{port}", app
    finally:
        stop(proc)


def _post(base: str, app: dict, path: str, body=BODY, signed_path: str | None = None, **kwargs) -> requests.Response:
    headers = signed_headers(app["app_key"], app["app_secret"], signed_path or path, BODY if body is not BODY else body)
    return requests.post(base + path, data=body, headers=headers, timeout=30, **kwargs)


def _wire(response: requests.Response) -> dict:
    assert response.status_code == 200, (response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Request-Id"]
    return response.json()


def test_signed_call_passes_auth(gateway):
    base, app = gateway
    path = public_path(app["service_codes"]["detect"], "detect")
    assert _wire(_post(base, app, path))["code"] == "4291"


def test_chunked_body_is_read(gateway):
    base, app = gateway
    path = public_path(app["service_codes"]["detect"], "detect")
    chunks = iter([BODY[:7], BODY[7:]])  # a generator body is sent with Transfer-Encoding: chunked
    assert _wire(_post(base, app, path, body=chunks))["code"] == "4291"


def test_query_string_is_signed(gateway):
    base, app = gateway
    path = public_path(app["service_codes"]["detect"], "detect")
    assert _wire(_post(base, app, path + "?trace=1"))["code"] == "4291"
    # Signing only the path while sending a query is a different request: refused.
    assert _wire(_post(base, app, path + "?trace=1", signed_path=path))["code"] == "4003"


def test_raw_path_is_signed_as_sent(gateway):
    base, app = gateway
    path = public_path(app["service_codes"]["detect"], "detect").replace("/person/detect", "/person%2Fdetect")
    # The Sign over the percent-encoded path verifies; that path names no API, so 4005.
    assert _wire(_post(base, app, path))["code"] == "4005"


@pytest.mark.parametrize("path", ["//v1/aiop/api/x/face/PERSON/person/detectFaceFromBase64",
                                  "/V1/AIOP/api/x/y", "/v1/aiop/api", "/v1//aiop/api/x/y"])
def test_path_variants_get_wire_replies(gateway, path):
    base, _app = gateway
    assert _wire(requests.post(base + path, data=BODY, timeout=30))["code"] == "4001"


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_get_wire_replies(gateway, method):
    base, app = gateway
    response = requests.request(method, base + public_path(app["service_codes"]["detect"], "detect"), timeout=30)
    assert response.status_code == 200
    if method != "HEAD":
        assert response.json()["code"] == "4102"


def test_oversized_body_is_4103_before_auth(gateway):
    base, _app = gateway
    body = b'{"imageContent": "' + b"A" * (9 * 1024 * 1024) + b'"}'
    headers = {"AppKey": "0" * 32, "Timestamp": "1", "Sign": "x"}
    reply = _wire(requests.post(base + "/v1/aiop/api/x/face/PERSON/person/detectFaceFromBase64", data=body,
                                headers=headers, timeout=60))
    assert reply["code"] == "4103" and json.dumps(reply)
