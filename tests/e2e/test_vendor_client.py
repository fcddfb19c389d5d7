"""End to end: the vendor's own sample client, unchanged, against `facegate serve` on loopback.

Starts the whole stack as a user would (temp data dir, free ports), creates an app and grants packs
with the admin CLI, calls all five APIs on the shared photos and odd images, then checks that
`facegate admin usage` shows exactly the calls that were charged.
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from facegate.apis import public_path
from facegate.errors import CHARGEABLE_CODES
from e2e_stack import admin

pytestmark = pytest.mark.slow

PY = sys.executable
MAX_IMAGE_BYTES = 2 * 1024 * 1024
SINGLE_IMAGE_APIS = ("detect", "attributes", "liveness", "mask")
ODD_IMAGES = {  # the documented codes (ICO: OpenCV has no codec, documented as 4104)
    "einstein.bmp": "0", "einstein.gif": "0", "einstein.jpeg": "0", "einstein.png": "0",
    "einstein.tiff": "0", "einstein.webp": "0", "einstein.ico": "4104",
    "corrupted.png": "4104", "empty.png": "4104", "truncated.jpg": "4104",
}
PER_API_FIELDS = {"attributes": ("gender", "age"), "liveness": ("FaceAntiSpoofing", "liveness_score"),
                  "mask": ("mask", "mask_score"), "detect": ()}


# ---- the vendor's sample client, reduced only to a function ----
def md5(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def vendor_call(request_base, app_key, app_secret, path, params):
    request_url = request_base + path
    ts = str(int(round(time.time() * 1000)))
    headers = {"content-type": "application/json", "Timestamp": ts, "AppKey": app_key,
               "Sign": md5(app_key + app_secret + ts + path + json.dumps(params))}
    return requests.post(request_url, data=json.dumps(params), headers=headers, timeout=120)
# ---- end of the vendor's code ----


def _b64(path: Path) -> str:
    return base64.encodebytes(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def app(stack):
    app = admin(stack, "create-app", "--name", "vendor-e2e", "--description", "vendor sample client")
    for api in ("detect", "attributes", "compare", "liveness", "mask"):
        admin(stack, "grant", "--app", app["app_key"], "--api", api, "--calls", "500", "--days", "30")
    return app


@pytest.fixture(scope="module")
def client(stack, app):
    """call(api, params) -> reply dict, counting charged calls per API for the usage check."""
    charged: dict[str, int] = {}

    def call(api: str, params: dict) -> dict:
        path = public_path(app["service_codes"][api], api)
        response = vendor_call(stack["base"], app["app_key"], app["app_secret"], path, params)
        assert response.status_code == 200 and response.headers.get("X-Request-Id")
        reply = response.json()
        if reply["code"] in CHARGEABLE_CODES:
            charged[api] = charged.get(api, 0) + 1
        return reply

    call.charged = charged
    return call


def _inside(nose: list[int], face: dict) -> bool:
    box = face["face_location"]
    return (box["left"] <= nose[0] <= box["left"] + box["width"]
            and box["top"] <= nose[1] <= box["top"] + box["height"])


@pytest.fixture(scope="module")
def photos(shared_dir) -> tuple[Path, list[dict], dict[str, str]]:
    folder = shared_dir / "data" / "photos"
    annotations = json.loads((folder / "annotations.json").read_text())["images"]
    return folder, annotations, {image["file"]: _b64(folder / image["file"]) for image in annotations}


@pytest.mark.parametrize("api", SINGLE_IMAGE_APIS)
def test_single_image_api_on_photos(photos, client, api):
    folder, annotations, encoded = photos
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda image: client(api, {"imageContent": encoded[image["file"]]}), annotations))
    for image, reply in zip(annotations, replies):
        where = f"{api} {image['file']}: {str(reply)[:300]}"
        if (folder / image["file"]).stat().st_size > MAX_IMAGE_BYTES:
            assert reply["code"] == "4103", where
        elif not image["noses"]:
            assert reply["code"] == "4105", where
        else:
            assert reply["code"] == "0", where
            faces = reply["result"]["face_list"]
            assert reply["result"]["face_num"] == len(faces)
            for nose in image["noses"]:
                assert any(_inside(nose, face) for face in faces), f"nose {nose} not in a box: {where}"
            for field in PER_API_FIELDS[api]:
                assert all(field in face for face in faces), where


def test_compare_same_and_different_people(photos, client):
    encoded = photos[2]

    def score(a: str, b: str) -> float:
        reply = client("compare", {"img1Base64": encoded[a], "img2Base64": encoded[b]})
        assert reply["code"] == "0", reply
        return float(reply["result"])

    assert score("007_B.jpg", "008_B.jpg") >= 0.5
    assert score("002_A.jpg", "004_A.jpg") >= 0.5
    assert score("007_B.jpg", "009_C.jpg") < 0.5
    assert score("002_A.jpg", "009_C.jpg") < 0.5


@pytest.mark.parametrize("name,code", sorted(ODD_IMAGES.items()))
def test_bad_and_odd_images(shared_dir, client, name, code):
    reply = client("detect", {"imageContent": _b64(shared_dir / "data" / "bad-and-odd-images" / name)})
    assert reply["code"] == code, reply


def test_usage_shows_the_charged_calls(stack, app, client):
    # Runs last in this module: every earlier call has been settled by now.
    report = admin(stack, "usage", "--app", app["app_key"])
    for api in ("detect", "attributes", "compare", "liveness", "mask"):
        used = report[api]
        assert used["used_today"] == client.charged.get(api, 0), (api, used, client.charged)
        assert used["remaining"] == 500 - client.charged.get(api, 0)


def test_replayed_vendor_request_is_refused(stack, app):
    path = public_path(app["service_codes"]["detect"], "detect")
    ts = str(int(round(time.time() * 1000)))
    body = json.dumps({"imageContent": ""})
    headers = {"content-type": "application/json", "Timestamp": ts, "AppKey": app["app_key"],
               "Sign": md5(app["app_key"] + app["app_secret"] + ts + path + body)}
    first = requests.post(stack["base"] + path, data=body, headers=headers, timeout=30).json()
    second = requests.post(stack["base"] + path, data=body, headers=headers, timeout=30).json()
    assert first["code"] == "4101" and second["code"] == "4004"
