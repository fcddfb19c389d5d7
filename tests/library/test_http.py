"""The library route of a real backend server on loopback: POST /v1/library/{op} with the backend
token and the app id header the gateway sets; enrol, search, delete over HTTP."""
from __future__ import annotations

import json
import os
import sys

import pytest
import requests

from facegate.procs import free_port, start, stop, wait_ok

TOKEN = "library-test-token"


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    data = tmp_path_factory.mktemp("backend-data")
    port = free_port()
    env = {**os.environ, "FACEGATE_BACKEND_TOKEN": TOKEN, "FACEGATE_DATA_DIR": str(data)}
    env.pop("FACEGATE_MILVUS_URI", None)
    log = data / "backend.log"
    proc = start([sys.executable, "-m", "facegate.cli", "backend", "--port", str(port)], env, log)
    url = f"http://127.0.0.1:{port}"
    wait_ok(url + "/health", proc, log, timeout=120, headers={"X-Facegate-Token": TOKEN})
    yield url, data
    stop(proc)


def post(url: str, op: str, body: dict | bytes, app: str | None = "app_http", token: str = TOKEN) -> requests.Response:
    headers = {"X-Facegate-Token": token, "X-Request-Id": "rid-lib"}
    if app is not None:
        headers["X-Facegate-App"] = app
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{url}/v1/library/{op}", data=data, headers=headers, timeout=60)


def test_enrol_search_delete_over_http(backend, lfw):
    url, data = backend
    assert post(url, "group/add", {"group_id": "staff"}).json()["code"] == "0"
    for photo in lfw["enrol"][:3]:
        reply = post(url, "user/add", {"group_id": "staff", "user_id": photo.identity, "imageContent": photo.b64()})
        assert reply.status_code == 200 and reply.json()["code"] == "0", reply.text
    probe = lfw["probe"][1]
    reply = post(url, "search", {"imageContent": probe.b64(), "group_id_list": "staff"})
    assert reply.headers["X-Request-Id"] == "rid-lib"
    users = reply.json()["result"]["user_list"]
    assert [u["user_id"] for u in users] == [probe.identity] and users[0]["score"] >= 0.5
    # Another app's view of the same group name is empty.
    assert post(url, "search", {"imageContent": probe.b64(), "group_id_list": "staff"}, app="other").json()["code"] == "4107"
    assert post(url, "user/delete", {"group_id": "staff", "user_id": probe.identity}).json()["result"]["face_num"] == 1
    assert post(url, "search", {"imageContent": probe.b64(), "group_id_list": "staff"}).json()["result"]["user_list"] == []
    # The library lives in the backend's data dir, one folder per model pack.
    assert (data / "library" / "default" / "library.sqlite3").exists()


def test_route_guards(backend):
    url, _ = backend
    assert post(url, "group/list", {}, token="wrong").status_code == 403
    missing_app = post(url, "group/list", {}, app=None)
    assert missing_app.status_code == 400 and missing_app.json()["code"] == "4102"
    assert post(url, "group/list", {}, app="bad app/../x").status_code == 400
    assert post(url, "no/such/op", {}).json()["code"] == "4102"
    assert post(url, "group/list", b"x" * (9 * 1024 * 1024)).json()["code"] == "4103"
    assert post(url, "group/list", b"not json").json()["code"] == "4102"
    # The other APIs still answer on their own routes.
    assert requests.post(f"{url}/v1/detect", data=b"{}", headers={"X-Facegate-Token": TOKEN}, timeout=10).json()["code"] == "4101"
