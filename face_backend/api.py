"""The backend's request logic without HTTP: body bytes in, the exact wire reply out.

Used by the HTTP server, the `facegate detect ...` CLI and the tests. This module is where the
wire format lives: codes, the vendor's words for results, and one handler per API.
Codes: 4101 image empty/field missing or null, 4102 body not a JSON object or a field of the wrong
type, 4103 over 2 MB, 4104 undecodable, 4105 no face, 5000 anything unexpected (logged with the
request id, which the reply's details carry).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import numpy as np

from facegate import errors
from facegate.errors import WireError
from facegate.apis import APIS
from face_backend.vision.engine import FaceEngine, NoFaceError, get_engine
from face_backend.vision.image_io import ImageError, ImageMissing, ImageTooLarge, ImageUndecodable, image_from_base64
from face_backend.vision.types import Face, LivenessVerdict

log = logging.getLogger("face_backend.api")


def parse_body(api: str, body: bytes) -> list[str]:
    """The base64 strings of the API's image fields, in order, or WireError 4101/4102."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WireError(errors.BAD_BODY, "body is not valid JSON") from None
    except RecursionError:  # e.g. [[[[...]]]] nested deeper than the parser's stack
        raise WireError(errors.BAD_BODY, "body is nested too deeply") from None
    if not isinstance(data, dict):
        raise WireError(errors.BAD_BODY, "body must be a JSON object")
    values = []
    for field in APIS[api].image_fields:
        value = data.get(field)
        if value is None:
            raise WireError(errors.IMAGE_MISSING, f"parameter {field} is missing")
        if not isinstance(value, str):
            raise WireError(errors.BAD_BODY, f"parameter {field} must be a base64 string")
        if not value.strip():
            raise WireError(errors.IMAGE_MISSING, f"parameter {field} is empty")
        values.append(value)
    return values


# Liveness judges fine texture (print dots, screen moire) that libjpeg's reduced DCT decoding
# smooths away: on a real live photo the score fell from 0.89 to 0.68. It always gets full pixels.
_FULL_RESOLUTION_APIS = frozenset({"liveness"})


IMAGE_ERROR_CODES: dict[type[ImageError], str] = {
    ImageMissing: errors.IMAGE_MISSING,
    ImageTooLarge: errors.IMAGE_TOO_LARGE,
    ImageUndecodable: errors.IMAGE_UNDECODABLE,
}

# The vendor's FaceAntiSpoofing words.
LIVENESS_TEXT: dict[LivenessVerdict, str] = {
    LivenessVerdict.LIVE: "活体人脸",
    LivenessVerdict.SPOOF: "非活体人脸",
    LivenessVerdict.UNCLEAR: "人脸清晰度较差，无法判断",
}


def _load(api: str, field: str, text: str) -> np.ndarray:
    try:
        return image_from_base64(text, allow_reduced=api not in _FULL_RESOLUTION_APIS)
    except ImageError as exc:
        raise WireError(IMAGE_ERROR_CODES[type(exc)], f"{field}: {exc.details}") from None


def face_json(face: Face) -> dict[str, Any]:
    x, y, w, h = face.box
    return {
        "face_location": {"top": int(y), "left": int(x), "width": int(w), "height": int(h)},
        "score": round(float(face.score), 4),
        "landmarks": [[int(round(px)), int(round(py))] for px, py in face.landmarks],
    }


def _face_list(items: list[dict]) -> dict[str, Any]:
    return {"face_num": len(items), "face_list": items}


def _compare(images: list[np.ndarray], engine: FaceEngine) -> float:
    return round(engine.compare(images[0], images[1]), 4)


def _detect(images: list[np.ndarray], engine: FaceEngine) -> dict[str, Any]:
    faces = engine.detect(images[0])
    if not faces:
        raise NoFaceError()
    return _face_list([face_json(f) for f in faces])


def _attributes(images: list[np.ndarray], engine: FaceEngine) -> dict[str, Any]:
    return _face_list([{**face_json(f), "gender": a.gender, "age": str(a.age)} for f, a in engine.attributes(images[0])])


def _liveness(images: list[np.ndarray], engine: FaceEngine) -> dict[str, Any]:
    return _face_list([{**face_json(f), "FaceAntiSpoofing": LIVENESS_TEXT[r.verdict], "liveness_score": round(r.score, 4)}
                       for f, r in engine.liveness(images[0])])


def _mask(images: list[np.ndarray], engine: FaceEngine) -> dict[str, Any]:
    return _face_list([{**face_json(f), "mask": m.state.value, "mask_score": round(float(m.score), 4)}
                       for f, m in engine.mask(images[0])])


# The result of each API for its decoded images (NoFaceError propagates).
HANDLERS: dict[str, Callable[[list[np.ndarray], FaceEngine], Any]] = {
    "detect": _detect, "attributes": _attributes, "compare": _compare, "liveness": _liveness, "mask": _mask,
}


def handle(api: str, body: bytes, request_id: str, engine: FaceEngine | None = None) -> dict:
    """The wire reply for one request: success(result) or error(code, details)."""
    try:
        if api not in APIS:
            return errors.error(errors.BAD_BODY, f"unknown API {api!r}")
        texts = parse_body(api, body)
        fields = APIS[api].image_fields
        images = [_load(api, field, text) for field, text in zip(fields, texts)]
        return errors.success(HANDLERS[api](images, engine or get_engine()))
    except WireError as exc:
        return exc.reply()
    except NoFaceError as exc:
        return errors.error(errors.NO_FACE, str(exc))
    except Exception:
        log.exception("internal error, request id %s, api %s", request_id, api)
        return errors.error(errors.INTERNAL, f"internal error, request id {request_id}")
