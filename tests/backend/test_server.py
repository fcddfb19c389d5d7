"""The backend HTTP service on a real uvicorn on loopback: token, health, request ids, codes."""
from __future__ import annotations

import threading
import time

import pytest
import requests
import uvicorn

from face_backend.server import create_app
from facegate.procs import free_port
from live_procs import BACKEND_TOKEN as TOKEN


@pytest.fixture(scope="module")
def backend_url(live_backend) -> str:
    return live_backend.url


def test_token_is_required(backend_url):
    assert requests.get(backend_url + "/health", timeout=5).status_code == 403
    wrong = requests.post(backend_url + "/v1/detect", data=b"{}", headers={"X-Facegate-Token": "nope"}, timeout=5)
    assert wrong.status_code == 403 and wrong.headers["X-Request-Id"]


def test_health_lists_loaded_models(backend_url):
    reply = requests.get(backend_url + "/health", headers={"X-Facegate-Token": TOKEN}, timeout=5)
    data = reply.json()
    assert reply.status_code == 200 and data["status"] == "ok" and data["pack"] == "default"
    files = {m["file"] for m in data["models"]}
    assert {"face_detection_yunet_2023mar.onnx", "face_recognition_sface_2021dec.onnx", "age-v1.onnx"} <= files
    assert all(m["license"] and m["name"] for m in data["models"] if "error" not in m)
    assert all(m["loaded"] for m in data["models"] if m["file"].startswith(("face_", "age-", "gender-")))


def test_detect_over_http_echoes_request_id(backend_url, photos_dir, b64, body):
    reply = requests.post(backend_url + "/v1/detect", data=body(imageContent=b64((photos_dir / "011_3.jpg").read_bytes())),
                          headers={"X-Facegate-Token": TOKEN, "X-Request-Id": "rid-123"}, timeout=30)
    assert reply.status_code == 200 and reply.headers["X-Request-Id"] == "rid-123"
    assert reply.json()["code"] == "0" and reply.json()["result"]["face_num"] == 3


def test_errors_over_http(backend_url):
    headers = {"X-Facegate-Token": TOKEN}
    bad = requests.post(backend_url + "/v1/detect", data=b"[1,2]", headers=headers, timeout=5)
    assert bad.status_code == 200 and bad.json()["code"] == "4102" and bad.headers["X-Request-Id"]
    huge = requests.post(backend_url + "/v1/detect", data=b"x" * (9 * 1024 * 1024), headers=headers, timeout=30)
    assert huge.status_code == 200 and huge.json()["code"] == "4103"
    unknown = requests.post(backend_url + "/v1/nope", data=b"{}", headers=headers, timeout=5)
    assert unknown.status_code == 404
    wrong_method = requests.get(backend_url + "/v1/detect", headers={**headers, "X-Request-Id": "r-405"}, timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.headers["X-Request-Id"] == "r-405"


def test_body_limit_comes_from_the_config(monkeypatch):
    """FACEGATE_MAX_BODY_BYTES (the backend's config) bounds what the server reads: 4103 above it."""
    monkeypatch.setenv("FACEGATE_MAX_BODY_BYTES", "1000")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(token=TOKEN, warm_up=False, threads=1), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        url, headers = f"http://127.0.0.1:{port}/v1/detect", {"X-Facegate-Token": TOKEN}
        over = requests.post(url, data=b"x" * 1001, headers=headers, timeout=10).json()
        assert over["code"] == "4103" and "1000 bytes" in over["details"]
        assert requests.post(url, data=b"[1]" + b" " * 900, headers=headers, timeout=10).json()["code"] == "4102"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
