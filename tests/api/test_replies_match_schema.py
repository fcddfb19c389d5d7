"""Real replies of all five APIs — successes and every error we can provoke — validated against the
served OpenAPI schema. Signed calls through `facegate serve`, real photos, real models."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
import requests

from facegate.apis import APIS, IMAGE_APIS, public_path
from facegate.client import shrink, signed_headers
from tests.api.schema_check import assert_matches, reply_validators

pytestmark = pytest.mark.slow

SINGLE_IMAGE_APIS = ("detect", "attributes", "liveness", "mask")
PHOTOS = ("000_5.jpg", "004_A.jpg", "012_4.jpg", "016_8.jpg")  # one to eight faces


@pytest.fixture(scope="module")
def validators(api_stack):
    return reply_validators(requests.get(f"{api_stack.url}/api/schema/", timeout=30).json())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def post(api_stack, api: str, fields: dict, app=None, headers: dict | None = None, sign: bool = True,
         body: bytes | None = None, op: str = "") -> dict:
    app = app or api_stack.app
    path = public_path(app.service_codes[api], api, op)
    raw = json.dumps(fields).encode() if body is None else body
    sent = signed_headers(app.app_key, app.app_secret, path, raw) if sign else {"Content-Type": "application/json"}
    sent.update(headers or {})
    response = requests.post(api_stack.url + path, data=raw, headers=sent, timeout=120)
    assert response.status_code == 200 and response.headers.get("X-Request-Id"), response.text[:300]
    return response.json()


def _fields(api: str, *images: bytes) -> dict:
    return {name: _b64(data) for name, data in zip(APIS[api].image_fields, images)}


@pytest.mark.parametrize("api", SINGLE_IMAGE_APIS)
def test_success_replies_match(api_stack, validators, photos: Path, api):
    for name in PHOTOS:
        reply = post(api_stack, api, _fields(api, (photos / name).read_bytes()))
        assert reply["code"] == "0", (name, reply)
        assert_matches(validators[api], reply, f"{api} {name}")


def test_success_on_a_shrunk_photo_over_2_mb(api_stack, validators, photos: Path):
    big = (photos / "001_A.jpg").read_bytes()
    assert len(big) > 2 * 1024 * 1024
    small = shrink(big)
    assert len(small) <= 2 * 1024 * 1024
    reply = post(api_stack, "detect", _fields("detect", small))
    assert reply["code"] == "0" and reply["result"]["face_num"] == 1
    assert_matches(validators["detect"], reply, "detect shrunk 001_A")


def test_compare_replies_match(api_stack, validators, photos: Path):
    same = post(api_stack, "compare", _fields("compare", (photos / "007_B.jpg").read_bytes(),
                                              (photos / "008_B.jpg").read_bytes()))
    different = post(api_stack, "compare", _fields("compare", (photos / "007_B.jpg").read_bytes(),
                                                   (photos / "009_C.jpg").read_bytes()))
    assert same["code"] == different["code"] == "0"
    assert same["result"] >= 0.5 > different["result"]
    for reply in (same, different):
        assert_matches(validators["compare"], reply, "compare")


def _error_replies(api_stack, photos: Path, api: str) -> dict[str, dict]:
    """code -> a real reply with that code, for one API."""
    photo = (photos / "007_B.jpg").read_bytes()
    good = _fields(api, *[photo] * len(APIS[api].image_fields))
    one_field = APIS[api].image_fields[0]
    app = api_stack.app
    stale = str(int(time.time() * 1000) - 3_600_000)
    path = public_path(app.service_codes[api], api)
    raw = json.dumps({one_field: ""} | {f: _b64(photo) for f in APIS[api].image_fields[1:]}).encode()
    replayed = signed_headers(app.app_key, app.app_secret, path, raw)
    post(api_stack, api, {}, body=raw, headers=replayed, sign=False)
    other_api = "detect" if api != "detect" else "mask"
    return {
        "4001": post(api_stack, api, good, sign=False),
        "4002": post(api_stack, api, good, headers={"AppKey": "no-such-app"}),
        "4003": post(api_stack, api, good, headers={"Sign": "0" * 32}),
        "4004": post(api_stack, api, {}, body=raw, headers=replayed, sign=False),
        "4004 stale": post(api_stack, api, good, headers={"Timestamp": stale}),
        "4005": _wrong_service_code(api_stack, api, other_api, good),
        "4101": post(api_stack, api, {one_field: ""}),
        "4102": post(api_stack, api, {}, body=b"not json"),
        "4103": post(api_stack, api, _fields(api, *[(photos / "001_A.jpg").read_bytes()] * len(APIS[api].image_fields))),
        "4104": post(api_stack, api, _fields(api, *[b"not an image"] * len(APIS[api].image_fields))),
        "4105": post(api_stack, api, _fields(api, *[(photos / "017_0.jpg").read_bytes()] * len(APIS[api].image_fields))),
        "4291": post(api_stack, api, good, app=api_stack.app_without_packs),
    }


def _wrong_service_code(api_stack, api: str, other_api: str, fields: dict) -> dict:
    """Signed correctly, but posted with the app's service code of another API."""
    app = api_stack.app
    path = public_path(app.service_codes[other_api], api)
    raw = json.dumps(fields).encode()
    response = requests.post(api_stack.url + path, data=raw, timeout=60,
                             headers=signed_headers(app.app_key, app.app_secret, path, raw))
    assert response.status_code == 200 and response.headers.get("X-Request-Id")
    return response.json()


@pytest.mark.parametrize("api", list(IMAGE_APIS))
def test_error_replies_match(api_stack, validators, photos: Path, api):
    for expected, reply in _error_replies(api_stack, photos, api).items():
        assert reply["code"] == expected.split()[0], (api, expected, reply)
        assert_matches(validators[api], reply, f"{api} {expected}")


def test_library_and_batch_compare_replies_match(api_stack, validators, photos: Path):
    """Real replies of the library's operations and of a batch compare, success and error."""
    photo = _b64(sorted(p for p in photos.glob("*.jpg") if p.stat().st_size < 2_000_000)[0].read_bytes())
    replies = {
        "group/add": post(api_stack, "library", {"group_id": "schema_g"}, op="group/add"),
        "group/list": post(api_stack, "library", {}, op="group/list"),
        "user/add": post(api_stack, "library", {"group_id": "schema_g", "user_id": "u1", "imageContent": photo},
                         op="user/add"),
        "search": post(api_stack, "library", {"group_id_list": "schema_g", "imageContent": photo}, op="search"),
        "user/get": post(api_stack, "library", {"group_id": "schema_g", "user_id": "u1"}, op="user/get"),
        "user/delete": post(api_stack, "library", {"group_id": "schema_g", "user_id": "nobody"}, op="user/delete"),
        "face/delete": post(api_stack, "library", {}, op="face/delete"),
    }
    assert replies["group/add"]["code"] == "0" and replies["user/add"]["code"] == "0"
    assert replies["user/delete"]["code"] == "4107" and replies["face/delete"]["code"] == "4101"
    for op, reply in replies.items():
        assert_matches(validators[f"library/{op}"], reply, f"library {op}")
    batch = post(api_stack, "compare", {"pairs": [{"img1Base64": photo, "img2Base64": photo},
                                                  {"img1Base64": photo, "face_token2": "missing"}]})
    assert [item["code"] for item in batch["result"]] == ["0", "4107"]
    assert_matches(validators["compare"], batch, "batch compare")


def test_body_over_the_server_limit_matches(api_stack, validators):
    body = b'{"imageContent": "' + b"A" * (9 * 1024 * 1024) + b'"}'
    reply = post(api_stack, "detect", {}, body=body)
    assert reply["code"] == "4103", reply
    assert_matches(validators["detect"], reply, "detect 9 MB body")
