"""Bounded fuzzing (hypothesis) of the image decoder and the request body parser: whatever the
bytes, the answer is an image or a documented refusal, never an exception or a 5000."""
from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile_images
from face_backend.api import handle
from face_backend.vision.image_io import MAX_PIXELS, ImageError, decode_image
from facegate import errors
from facegate.apis import APIS

DOCUMENTED = {errors.SUCCESS, errors.IMAGE_MISSING, errors.BAD_BODY, errors.IMAGE_TOO_LARGE,
              errors.IMAGE_UNDECODABLE, errors.NO_FACE}
FUZZ = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _seeds() -> list[bytes]:
    """Small valid files of every accepted format (and of two refused ones), plus the bombs."""
    rng = np.random.default_rng(7)
    img = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    files = [cv2.imencode(ext, img)[1].tobytes() for ext in (".jpg", ".png", ".bmp", ".webp", ".tiff")]
    files.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes())
    files += [hostile_images.gif_screen(16, 16), hostile_images.tiff_ccitt_g4(40, 30),
              hostile_images.jpeg_junk_before_sof(16, 16), hostile_images.jpeg2000(64, 64), hostile_images.pgm(8, 8)]
    return files + [make() for make in hostile_images.ALL.values()]


SEEDS = _seeds()


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    """A seed file with a few bytes replaced, inserted or cut, headers most often."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        where = draw(st.one_of(st.integers(0, min(64, len(data))), st.integers(0, len(data))))
        action = draw(st.sampled_from(["set", "insert", "cut", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if action == "set":
            data[where : where + len(chunk)] = chunk
        elif action == "insert":
            data[where:where] = chunk
        elif action == "cut":
            del data[where : where + len(chunk)]
        else:
            del data[max(where, 1):]
    return bytes(data)


@FUZZ
@given(data=st.one_of(mutated_images(), st.binary(max_size=256)))
def test_decoder_returns_an_image_or_refuses(data: bytes) -> None:
    try:
        img = decode_image(data)
    except ImageError:
        return
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] * img.shape[1] <= MAX_PIXELS


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=8)
image_fields = st.one_of(mutated_images().map(_b64), mutated_images().map(lambda d: "data:image/png;base64," + _b64(d)),
                         st.text(max_size=40), json_values)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    api = draw(st.sampled_from(sorted(APIS)))
    kind = draw(st.sampled_from(["fields", "fields", "json", "bytes"]))
    if kind == "bytes":
        return api, draw(st.binary(max_size=200))
    if kind == "json":
        return api, json.dumps(draw(json_values)).encode()
    fields = {name: draw(image_fields) for name in APIS[api].image_fields if draw(st.integers(0, 9))}
    return api, json.dumps(fields).encode()


@pytest.fixture(scope="module")
def warm_engine(engine):
    engine.warm_up()
    return engine


@FUZZ
@given(case=bodies())
def test_body_parser_and_decoder_answer_with_documented_codes(warm_engine, case: tuple[str, bytes]) -> None:
    api, body = case
    reply = handle(api, body, "t-fuzz", warm_engine)  # handle returns; an exception fails here
    assert reply["code"] in DOCUMENTED, reply
    assert reply["code"] != errors.INTERNAL
