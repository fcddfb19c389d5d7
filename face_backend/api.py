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
from face_backend import config
from face_backend.library.service import get_library
from face_backend.library.store import NotFound
from facegate.apis import IMAGE_APIS, MAX_COMPARE_PAIRS
from face_backend.vision.engine import FaceEngine, NoFaceError, get_engine
from face_backend.wire_input import load_image
from face_backend.vision.types import Face, LivenessVerdict

log = logging.getLogger("face_backend.api")


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or WireError 4102."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WireError(errors.BAD_BODY, "body is not valid JSON") from None
    except RecursionError:  # e.g. [[[[...]]]] nested deeper than the parser's stack
        raise WireError(errors.BAD_BODY, "body is nested too deeply") from None
    if not isinstance(data, dict):
        raise WireError(errors.BAD_BODY, "body must be a JSON object")
    return data


def image_text(data: dict[str, Any], field: str) -> str:
    """The base64 string of one image field, or WireError 4101 (missing, null, empty) / 4102."""
    value = data.get(field)
    if value is None:
        raise WireError(errors.IMAGE_MISSING, f"parameter {field} is missing")
    if not isinstance(value, str):
        raise WireError(errors.BAD_BODY, f"parameter {field} must be a base64 string")
    if not value.strip():
        raise WireError(errors.IMAGE_MISSING, f"parameter {field} is empty")
    return value


def parse_body(api: str, body: bytes) -> list[str]:
    """The base64 strings of the API's image fields, in order, or WireError 4101/4102."""
    data = json_object(body)
    return [image_text(data, field) for field in IMAGE_APIS[api].image_fields]


# Liveness judges fine texture (print dots, screen moire) that libjpeg's reduced DCT decoding
# smooths away: on a real live photo the score fell from 0.89 to 0.68. It always gets full pixels.
_FULL_RESOLUTION_APIS = frozenset({"liveness"})


# The vendor's FaceAntiSpoofing words.
LIVENESS_TEXT: dict[LivenessVerdict, str] = {
    LivenessVerdict.LIVE: "活体人脸",
    LivenessVerdict.SPOOF: "非活体人脸",
    LivenessVerdict.UNCLEAR: "人脸清晰度较差，无法判断",
}


def _load(api: str, field: str, text: str) -> np.ndarray:
    return load_image(field, text, allow_reduced=api not in _FULL_RESOLUTION_APIS)


def face_json(face: Face) -> dict[str, Any]:
    x, y, w, h = face.box
    return {
        "face_location": {"top": int(y), "left": int(x), "width": int(w), "height": int(h)},
        "score": round(float(face.score), 4),
        "landmarks": [[int(round(px)), int(round(py))] for px, py in face.landmarks],
    }


def _face_list(items: list[dict]) -> dict[str, Any]:
    return {"face_num": len(items), "face_list": items}


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
    "detect": _detect, "attributes": _attributes, "liveness": _liveness, "mask": _mask,
}


def _compare_side(data: dict[str, Any], n: int) -> tuple[str, str]:
    """Side n (1 or 2) of a pair, validated: ("token", face_token) or ("image", base64 text)."""
    token = data.get(f"face_token{n}")
    if token is None:
        return "image", image_text(data, IMAGE_APIS["compare"].image_fields[n - 1])
    if not isinstance(token, str) or not token:
        raise WireError(errors.BAD_BODY, f"parameter face_token{n} must be a face token string")
    return "token", token


# Opt-in extras of a compare reply, named in the body's "face_fields" (comma-separated). Without it
# the reply is the vendor's bare similarity, byte for byte.
COMPARE_FACE_FIELDS = frozenset({"location"})


def _face_fields(data: dict[str, Any]) -> frozenset[str]:
    value = data.get("face_fields")
    if value is None:
        return frozenset()
    names = {name.strip() for name in value.split(",") if name.strip()} if isinstance(value, str) else None
    if names is None or not names <= COMPARE_FACE_FIELDS:
        raise WireError(errors.BAD_BODY, f"face_fields must name some of: {', '.join(sorted(COMPARE_FACE_FIELDS))}")
    return frozenset(names)


def _compare_one(data: dict[str, Any], engine: FaceEngine, app_id: str) -> Any:
    """The similarity of one pair; with face_fields "location", {"score", "face_location1",
    "face_location2"} (the box of each photo's subject, the face compared; null for a face token)."""
    # As for every API: both sides validated (4101/4102), then both decoded (4103/4104), then faces.
    fields = _face_fields(data)
    sides = [_compare_side(data, 1), _compare_side(data, 2)]
    loaded = [value if kind == "token" else _load("compare", IMAGE_APIS["compare"].image_fields[n], value)
              for n, (kind, value) in enumerate(sides)]
    if not any(isinstance(item, str) for item in loaded):
        embedded = engine.subjects_embedded(*loaded)  # the two photos side by side
    else:  # one photo at most: the sides in order, so an unknown token 1 answers at once
        embedded = [(None, stored_embedding(engine, app_id, item)) if isinstance(item, str) else engine.subject_embedded(item, n)
                    for n, item in enumerate(loaded, start=1)]
    faces, embeddings = zip(*embedded)
    score = round(engine.similarity(*embeddings), 4)
    if not fields:
        return score
    return {"score": score, **{f"face_location{n}": None if face is None else face_json(face)["face_location"]
                               for n, face in enumerate(faces, start=1)}}


def _compare_pairs(pairs: Any, engine: FaceEngine, app_id: str, request_id: str) -> list[dict[str, Any]]:
    """One wire reply per pair, in order; a pair's failure is its own reply, not the call's."""
    if not isinstance(pairs, list) or not all(isinstance(p, dict) for p in pairs):
        raise WireError(errors.BAD_BODY, "pairs must be a list of objects")
    if not 1 <= len(pairs) <= MAX_COMPARE_PAIRS:
        raise WireError(errors.BAD_BODY if pairs else errors.IMAGE_MISSING, f"pairs must hold 1 to {MAX_COMPARE_PAIRS} pairs")
    return [_guarded(lambda pair=pair: _compare_one(pair, engine, app_id), request_id, "compare") for pair in pairs]


def _compare(data: dict[str, Any], engine: FaceEngine, app_id: str, request_id: str) -> Any:
    if "pairs" in data:
        return _compare_pairs(data["pairs"], engine, app_id, request_id)
    return _compare_one(data, engine, app_id)


def handle(api: str, body: bytes, request_id: str, engine: FaceEngine | None = None, app_id: str = "") -> dict:
    """The wire reply for one request: success(result) or error(code, details).

    `app_id` is the calling application (set by the gateway); compare needs it for face tokens.
    """
    if api not in IMAGE_APIS:
        return errors.error(errors.BAD_BODY, f"unknown API {api!r}")
    engine = engine or get_engine()

    def run() -> Any:
        if api == "compare":
            return _compare(json_object(body), engine, app_id, request_id)
        fields = IMAGE_APIS[api].image_fields
        images = [_load(api, field, text) for field, text in zip(fields, parse_body(api, body))]
        return HANDLERS[api](images, engine)

    return _guarded(run, request_id, api)


def _guarded(run: Callable[[], Any], request_id: str, api: str) -> dict:
    """success(run()), or the wire error it raised; 5000 (logged with the request id) for anything else."""
    try:
        return errors.success(run())
    except WireError as exc:
        return exc.reply()
    except NoFaceError as exc:
        return errors.error(errors.NO_FACE, str(exc))
    except Exception:
        log.exception("internal error, request id %s, api %s", request_id, api)
        return errors.error(errors.INTERNAL, f"internal error, request id {request_id}")


def stored_embedding(engine: FaceEngine, app_id: str, face_token: str) -> np.ndarray:
    """The embedding of a face stored in the app's library, or WireError 4107."""
    if not app_id:
        raise WireError(errors.LIBRARY_NOT_FOUND, f"face_token {face_token} not found")
    try:
        return get_library(engine, config.get().data_dir).store.embedding_of(app_id, face_token)
    except NotFound:
        raise WireError(errors.LIBRARY_NOT_FOUND, f"face_token {face_token} not found") from None
