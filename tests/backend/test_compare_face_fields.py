"""compare's opt-in `face_fields`: without it the reply is the vendor's bare similarity, byte for byte;
with "location" it also says which face of each photo was compared (the photo's subject)."""
from __future__ import annotations

import json

import pytest

from facegate import errors
from face_backend.api import handle
from facegate.openapi import build_schema
from tests.api.schema_check import assert_matches, reply_validators


@pytest.fixture(scope="module")
def crowd_and_portrait(photos_dir, b64):
    # 000_5.jpg: five people, and the subject (centred) is not the largest face.
    return b64((photos_dir / "000_5.jpg").read_bytes()), b64((photos_dir / "004_A.jpg").read_bytes())


def test_default_reply_keeps_the_vendor_shape_and_the_opt_in_adds_the_subjects_boxes(
        engine, photos_dir, read_bgr, crowd_and_portrait):
    crowd, portrait = crowd_and_portrait
    plain = handle("compare", json.dumps({"img1Base64": crowd, "img2Base64": portrait}).encode(), "t-plain", engine)
    assert list(plain) == ["code", "message", "result"] and isinstance(plain["result"], float)
    asked = handle("compare", json.dumps({"img1Base64": crowd, "img2Base64": portrait,
                                          "face_fields": "location"}).encode(), "t-loc", engine)
    assert asked["code"] == errors.SUCCESS
    assert set(asked["result"]) == {"score", "face_location1", "face_location2"}
    assert asked["result"]["score"] == plain["result"]
    img = read_bgr(photos_dir / "000_5.jpg")
    subject, largest = engine.subject(img), engine.detect(img)[0]
    x, y, w, h = subject.box
    assert asked["result"]["face_location1"] == {"top": y, "left": x, "width": w, "height": h}
    assert subject.box != largest.box  # the box drawn is the face compared, not the largest one
    assert asked["result"]["face_location2"]["width"] > 50
    validator = reply_validators(build_schema("en"))["compare"]  # both shapes are in the OpenAPI document
    assert_matches(validator, plain, "plain compare")
    assert_matches(validator, asked, "compare with face_fields")


@pytest.mark.parametrize("value", ["age", 1, ["location"], "location,age"])
def test_unknown_face_fields_are_a_bad_body(engine, crowd_and_portrait, value):
    crowd, portrait = crowd_and_portrait
    reply = handle("compare", json.dumps({"img1Base64": crowd, "img2Base64": portrait, "face_fields": value}).encode(),
                   "t-bad", engine)
    assert reply["code"] == errors.BAD_BODY and "face_fields" in reply["details"]
