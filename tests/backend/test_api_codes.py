"""face_backend.api.handle: every malformed request gets its documented code, never a 500."""
from __future__ import annotations

import pytest

from facegate import errors
from face_backend.api import handle
from face_backend.vision.image_io import MAX_IMAGE_BYTES

ODD = {
    "einstein.bmp": "0", "einstein.gif": "0", "einstein.jpeg": "0", "einstein.png": "0",
    "einstein.tiff": "0", "einstein.webp": "0",
    "einstein.ico": errors.IMAGE_UNDECODABLE,  # OpenCV has no ICO codec: documented as 4104
    "corrupted.png": errors.IMAGE_UNDECODABLE, "empty.png": errors.IMAGE_UNDECODABLE,
    "truncated.jpg": errors.IMAGE_UNDECODABLE,
}


@pytest.mark.parametrize("name,code", sorted(ODD.items()))
def test_bad_and_odd_images(shared_dir, engine, b64, body, name, code):
    raw = (shared_dir / "data" / "bad-and-odd-images" / name).read_bytes()
    reply = handle("detect", body(imageContent=b64(raw)), "t-odd", engine)
    assert reply["code"] == code, reply
    if code == "0":
        assert reply["result"]["face_num"] == 1  # the picture is a portrait


@pytest.mark.parametrize("raw_body,code", [
    (b"", errors.BAD_BODY), (b"not json", errors.BAD_BODY), (b"\xff\xfe", errors.BAD_BODY),
    (b"[]", errors.BAD_BODY), (b'"imageContent"', errors.BAD_BODY), (b"null", errors.BAD_BODY),
    (b"{}", errors.IMAGE_MISSING), (b'{"other": "x"}', errors.IMAGE_MISSING),
    (b'{"imageContent": null}', errors.IMAGE_MISSING), (b'{"imageContent": ""}', errors.IMAGE_MISSING),
    (b'{"imageContent": "  \\n"}', errors.IMAGE_MISSING),
    (b'{"imageContent": 12}', errors.BAD_BODY), (b'{"imageContent": ["a"]}', errors.BAD_BODY),
    (b'{"imageContent": {"a": 1}}', errors.BAD_BODY), (b'{"imageContent": true}', errors.BAD_BODY),
    (b'{"imageContent": "%%%not-base64"}', errors.IMAGE_UNDECODABLE),
    (b'{"imageContent": "aGVsbG8gd29ybGQ="}', errors.IMAGE_UNDECODABLE),  # "hello world"
    (b"[" * 100_000 + b"]" * 100_000, errors.BAD_BODY),  # deeper than the JSON parser's stack
    (b'{"imageContent": ' + b"9" * 100_000 + b"}", errors.BAD_BODY),  # over Python's int-digits limit
])
def test_body_shapes(engine, raw_body, code):
    reply = handle("detect", raw_body, "t-body", engine)
    assert reply == {"code": code, "message": "error", "details": reply["details"]}
    assert reply["code"] == code and reply["details"]


@pytest.mark.parametrize("fields,code", [
    ({}, errors.IMAGE_MISSING), ({"img1Base64": "x"}, errors.IMAGE_MISSING),
    ({"img1Base64": None, "img2Base64": "x"}, errors.IMAGE_MISSING),
    ({"img1Base64": 1, "img2Base64": "x"}, errors.BAD_BODY),
])
def test_compare_fields(engine, body, fields, code):
    assert handle("compare", body(**fields), "t-cmp", engine)["code"] == code


def test_over_2mb_is_4103_and_faceless_is_4105(photos_dir, engine, b64, body):
    big = [p for p in sorted(photos_dir.glob("*.jpg")) if p.stat().st_size > MAX_IMAGE_BYTES]
    assert big, "the shared photos include at least one file over 2 MB"
    for path in big:
        assert handle("detect", body(imageContent=b64(path.read_bytes())), "t", engine)["code"] == errors.IMAGE_TOO_LARGE
    faceless = b64((photos_dir / "017_0.jpg").read_bytes())
    for api in ("detect", "attributes", "liveness"):
        assert handle(api, body(imageContent=faceless), "t", engine)["code"] == errors.NO_FACE
    one_face = b64((photos_dir / "009_C.jpg").read_bytes())
    reply = handle("compare", body(img1Base64=one_face, img2Base64=faceless), "t", engine)
    assert reply["code"] == errors.NO_FACE and "image 2" in reply["details"]
    # The two photos run side by side; the first without a face, in order, is the one named.
    reply = handle("compare", body(img1Base64=faceless, img2Base64=faceless), "t", engine)
    assert reply["code"] == errors.NO_FACE and "image 1" in reply["details"]
    # With a face token the sides go in order too: an unknown token 1 answers before photo 2's 4105.
    reply = handle("compare", body(face_token1="nope", img2Base64=faceless), "t", engine)
    assert reply["code"] == errors.LIBRARY_NOT_FOUND and "nope" in reply["details"]


def test_unexpected_failure_is_5000_with_request_id(photos_dir, b64, body):
    class Broken:
        def detect(self, img):
            raise RuntimeError("boom")

    reply = handle("detect", body(imageContent=b64((photos_dir / "009_C.jpg").read_bytes())), "req-42", Broken())
    assert reply["code"] == errors.INTERNAL and "req-42" in reply["details"]


def test_data_url_prefix_accepted(photos_dir, engine, body):
    import base64

    raw = (photos_dir / "009_C.jpg").read_bytes()
    reply = handle("detect", body(imageContent="data:image/jpeg;base64," + base64.b64encode(raw).decode()), "t", engine)
    assert reply["code"] == "0" and reply["result"]["face_num"] == 1
