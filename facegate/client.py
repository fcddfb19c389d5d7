"""Python client for the facegate face API: signs, encodes, shrinks, retries and types the replies.

    from facegate.client import Client
    client = Client("http://127.0.0.1:8000", app_key, app_secret, service_codes)
    faces = client.detect("photo.jpg").faces
    same = client.compare("a.jpg", "b.jpg").same_person

Needs only `requests` and the standard library; Pillow, NumPy and OpenCV are used when installed
(PIL images and arrays as input, shrinking images over the 2 MB limit). The signature rule itself is
`facegate.signing.sign`, which ships in the same distribution: one definition for the server that
checks a Sign and the client that makes it.
"""
from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import requests

from facegate.apis import APIS, public_path
from facegate.signing import sign

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # the server's limit on one decoded image
SAME_PERSON_THRESHOLD = 0.5
LIVE, SPOOF = "活体人脸", "非活体人脸"

Image = Union[str, os.PathLike, bytes, bytearray, memoryview, Any]  # Any: PIL.Image.Image or numpy.ndarray


# ---- errors: one class per family of wire codes ----
class FacegateError(Exception):
    """An error reply (`code`, `details`) or, for TransportError, no reply at all."""

    def __init__(self, code: str, details: str, request_id: str | None = None) -> None:
        super().__init__(f"{code}: {details}" if code else details)
        self.code, self.details, self.request_id = code, details, request_id


class AuthError(FacegateError):
    """400x: missing headers, unknown or disabled app, bad Sign, stale or replayed call, wrong service code."""


class QuotaError(FacegateError):
    """429x: no quota left (4291) or over the rate limit (4292)."""


class ImageError(FacegateError):
    """41xx: the body or image was refused (missing, bad JSON, over 2 MB, undecodable, no face)."""


class ServerError(FacegateError):
    """5000 (after the retries): the server failed; `details` carries the request id it logged."""


class TransportError(FacegateError):
    """No usable reply (connection refused, timed out, not JSON) after the retries; `code` is ""."""


def error_class(code: str) -> type[FacegateError]:
    if code.startswith("40"):
        return AuthError
    if code.startswith("429"):
        return QuotaError
    if code.startswith("41"):
        return ImageError
    return ServerError


# ---- typed results ----
@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class Face:
    box: Box
    score: float
    landmarks: list[tuple[int, int]]
    # attributes
    gender: str | None = None
    age: int | None = None
    # liveness: the wire label (活体人脸 / 非活体人脸 / 人脸清晰度较差，无法判断) and the live probability
    liveness_label: str | None = None
    liveness_score: float | None = None
    # mask: "wearing" / "not_wearing" / "incorrect" (nose or mouth uncovered) and the probability that a mask is worn
    mask: str | None = None
    mask_score: float | None = None

    @property
    def is_live(self) -> bool | None:
        """True / False, or None when the face is too small or blurred to judge (or not a liveness reply)."""
        return {LIVE: True, SPOOF: False}.get(self.liveness_label or "")

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> Face:
        loc = item["face_location"]
        return cls(
            box=Box(left=loc["left"], top=loc["top"], width=loc["width"], height=loc["height"]),
            score=item["score"], landmarks=[(x, y) for x, y in item["landmarks"]],
            gender=item.get("gender"), age=int(item["age"]) if "age" in item else None,
            liveness_label=item.get("FaceAntiSpoofing"), liveness_score=item.get("liveness_score"),
            mask=item.get("mask"), mask_score=item.get("mask_score"))


@dataclass(frozen=True)
class FacesResult:
    """detect, attributes, liveness and mask: the faces, largest first."""
    faces: list[Face]
    request_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class CompareResult:
    similarity: float
    request_id: str | None = None

    @property
    def same_person(self) -> bool:
        return self.similarity >= SAME_PERSON_THRESHOLD


# ---- images ----
def image_bytes(image: Image) -> bytes:
    """The encoded image file of a path, bytes, a PIL image or a numpy array (OpenCV's BGR order)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        return Path(image).read_bytes()
    if hasattr(image, "save") and hasattr(image, "mode"):  # PIL.Image.Image
        return _pil_jpeg(image)
    if hasattr(image, "shape") and hasattr(image, "dtype"):  # numpy.ndarray
        return _array_jpeg(image)
    raise TypeError(f"unsupported image type {type(image).__name__}: use a path, bytes, a PIL image or an array")


def _pil_jpeg(img: Any, quality: int = 95) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _array_jpeg(array: Any, quality: int = 95) -> bytes:
    try:
        import cv2
    except ImportError:
        from PIL import Image as PILImage
        rgb = array[..., ::-1] if array.ndim == 3 else array  # BGR (OpenCV's order) to RGB
        return _pil_jpeg(PILImage.fromarray(rgb.copy()), quality)
    ok, encoded = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the array could not be encoded as JPEG")
    return encoded.tobytes()


def shrink(data: bytes, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """`data` when within `limit`, else a JPEG re-encoding (scaled down as needed) that fits.

    OpenCV applies the EXIF orientation while decoding, so the shrunk image stands the right way up."""
    if len(data) <= limit:
        return data
    try:
        import cv2
        import numpy as np
    except ImportError:
        return _shrink_pil(data, limit)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ImageError("4104", "image could not be decoded for shrinking")
    scale = 1.0
    while True:
        size = (max(1, int(img.shape[1] * scale)), max(1, int(img.shape[0] * scale)))
        work = img if scale == 1.0 else cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        out = _array_jpeg(work, quality=90)
        if len(out) <= limit:
            return out
        scale *= 0.9 * (limit / len(out)) ** 0.5


def _shrink_pil(data: bytes, limit: int) -> bytes:
    try:
        from PIL import Image as PILImage, ImageOps
    except ImportError:
        raise ImageError("4103", "image over 2 MB; install opencv-python or Pillow to shrink it "
                                 "before sending, or pass shrink=False") from None
    img = ImageOps.exif_transpose(PILImage.open(io.BytesIO(data)))
    while True:
        out = _pil_jpeg(img, quality=90)
        if len(out) <= limit:
            return out
        factor = 0.9 * (limit / len(out)) ** 0.5
        img = img.resize((max(1, int(img.width * factor)), max(1, int(img.height * factor))))


# ---- signing ----
def signed_headers(app_key: str, app_secret: str, path: str, body: bytes, timestamp: str | None = None) -> dict:
    """The Content-Type, AppKey, Timestamp and Sign headers of a call to `path` with this raw body."""
    ts = timestamp or str(int(round(time.time() * 1000)))
    return {"Content-Type": "application/json", "AppKey": app_key, "Timestamp": ts,
            "Sign": sign(app_key, app_secret, ts, path, body)}


def signed_request(app_key: str, app_secret: str, service_code: str, api: str, body: bytes,
                   timestamp: str | None = None) -> tuple[str, dict]:
    """The path and headers of a signed call to `api` with this raw body."""
    path = public_path(service_code, api)
    return path, signed_headers(app_key, app_secret, path, body, timestamp)


class MillisecondClock:
    """Strictly increasing millisecond timestamps: two calls in one millisecond get two timestamps,
    so two identical requests never carry the same Sign (which the server would refuse as a replay)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1)
            return str(self._last)


# ---- the client ----
class Client:
    """A facegate application's client; thread-safe, keep one per application.

    `service_codes` maps API names (detect, attributes, compare, liveness, mask) to the app's codes.
    `timeout` is (connect, read) seconds; `retries` counts extra attempts after a connection error or a
    5000 reply, each with a fresh timestamp and Sign (never after 4xxx: those would fail again, and
    4103-4105 are charged; never after a read timeout: the server may have done and charged the work). `shrink_images` re-encodes images over 2 MB so they fit the limit.
    """

    def __init__(self, url: str, app_key: str, app_secret: str, service_codes: dict[str, str], *,
                 timeout: float | tuple[float, float] = (5, 60), retries: int = 2, backoff: float = 0.2,
                 shrink_images: bool = True, session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.app_key, self._app_secret = app_key, app_secret
        self.service_codes = dict(service_codes)
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.shrink_images = shrink_images
        self._session = session or requests.Session()
        self._clock = MillisecondClock()

    def detect(self, image: Image) -> FacesResult:
        return self._faces("detect", image)

    def attributes(self, image: Image) -> FacesResult:
        return self._faces("attributes", image)

    def liveness(self, image: Image) -> FacesResult:
        return self._faces("liveness", image)

    def mask(self, image: Image) -> FacesResult:
        return self._faces("mask", image)

    def compare(self, image1: Image, image2: Image) -> CompareResult:
        reply, request_id = self.call("compare", [image1, image2])
        return CompareResult(similarity=float(reply["result"]), request_id=request_id)

    def compare_pairs(self, pairs: list[tuple[Image | str, Image | str]]) -> list[CompareResult | FacegateError]:
        """Batch compare (up to 32 pairs, one call each): each side a photo or a stored face_token
        (a str that is not a file path); one result or error per pair, in order."""
        body = {"pairs": [{**self._side(1, a), **self._side(2, b)} for a, b in pairs]}
        reply, request_id = self.send("compare", json.dumps(body).encode())
        return [CompareResult(similarity=float(item["result"]), request_id=request_id) if item["code"] == "0"
                else error_class(item["code"])(item["code"], str(item.get("details", "")), request_id)
                for item in reply["result"]]

    def library(self, op: str, **fields: Any) -> dict[str, Any]:
        """A face library operation (`group/add`, `user/add`, `search`, ...): its result.

        `imageContent` may be any image the other calls take; other fields are sent as given."""
        if "imageContent" in fields:
            fields["imageContent"] = self._encode(fields["imageContent"])
        reply, _request_id = self.send("library", json.dumps(fields).encode(), op)
        return reply["result"]

    def _side(self, n: int, side: Image | str) -> dict[str, str]:
        if isinstance(side, str) and not os.path.exists(side):
            return {f"face_token{n}": side}
        return {APIS["compare"].image_fields[n - 1]: self._encode(side)}

    def _encode(self, image: Image) -> str:
        data = image_bytes(image)
        if self.shrink_images:
            data = shrink(data)
        return base64.b64encode(data).decode("ascii")

    def _faces(self, api: str, image: Image) -> FacesResult:
        reply, request_id = self.call(api, [image])
        return FacesResult(faces=[Face.from_wire(f) for f in reply["result"]["face_list"]],
                           request_id=request_id, raw=reply)

    def body(self, api: str, images: list[Image]) -> bytes:
        """The JSON body of a call: each image encoded, shrunk when enabled, in base64."""
        fields = APIS[api].image_fields
        if len(images) != len(fields):
            raise ValueError(f"{api} takes {len(fields)} image(s)")
        return json.dumps({name: self._encode(image) for name, image in zip(fields, images)}).encode()

    def call(self, api: str, images: list[Image]) -> tuple[dict[str, Any], str | None]:
        """The success reply and its request id, or the error family's exception."""
        return self.send(api, self.body(api, images))

    def send(self, api: str, body: bytes, op: str = "") -> tuple[dict[str, Any], str | None]:
        """Sign and post a raw JSON body (retrying as the class says); the success reply and its id."""
        if api not in self.service_codes:
            raise ValueError(f"no service code for {api!r}; known: {sorted(self.service_codes)}")
        path = public_path(self.service_codes[api], api, op)
        attempt = 0
        while True:
            headers = signed_headers(self.app_key, self._app_secret, path, body, self._clock.next())
            try:
                response = self._session.post(self.url + path, data=body, headers=headers, timeout=self.timeout)
            except requests.ConnectionError as exc:  # nothing was processed: safe to send again
                if attempt >= self.retries:
                    raise TransportError("", f"{type(exc).__name__}: {exc}") from exc
            except requests.Timeout as exc:  # the server may have done (and charged) the work: no retry
                raise TransportError("", f"{type(exc).__name__}: {exc}") from exc
            else:
                reply, request_id = _wire_reply(response)
                code = str(reply["code"])
                if code == "0":
                    return reply, request_id
                if code != "5000" or attempt >= self.retries:  # 5000 is never charged: safe to send again
                    raise error_class(code)(code, str(reply.get("details", "")), request_id)
            time.sleep(self.backoff * 2 ** attempt)
            attempt += 1


def _wire_reply(response: requests.Response) -> tuple[dict[str, Any], str | None]:
    request_id = response.headers.get("X-Request-Id")
    try:
        reply = response.json()
        if isinstance(reply, dict) and isinstance(reply.get("code"), str):
            return reply, request_id
    except ValueError:
        pass
    raise TransportError("", f"HTTP {response.status_code}: not a facegate reply", request_id)
