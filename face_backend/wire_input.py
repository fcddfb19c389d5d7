"""Reading what a request carries, with its wire codes: the bounded body and base64 images.

Shared by the face APIs (face_backend.api), the face library and the HTTP server, so that a body
or an image is refused the same way wherever it arrives.
"""
from __future__ import annotations

import numpy as np
from starlette.requests import Request

from facegate import errors
from facegate.errors import WireError
from face_backend.vision.image_io import ImageError, ImageMissing, ImageTooLarge, ImageUndecodable, decode_base64, decode_image

IMAGE_ERROR_CODES: dict[type[ImageError], str] = {
    ImageMissing: errors.IMAGE_MISSING,
    ImageTooLarge: errors.IMAGE_TOO_LARGE,
    ImageUndecodable: errors.IMAGE_UNDECODABLE,
}


def load_image_bytes(field: str, text: str, allow_reduced: bool = True) -> tuple[bytes, np.ndarray]:
    """(file bytes, decoded image) of a base64 field, or WireError 4101/4103/4104 naming the field."""
    try:
        raw = decode_base64(text)
        return raw, decode_image(raw, allow_reduced)
    except ImageError as exc:
        raise WireError(IMAGE_ERROR_CODES[type(exc)], f"{field}: {exc.details}") from None


def load_image(field: str, text: str, allow_reduced: bool = True) -> np.ndarray:
    """The decoded image of a base64 field, or WireError 4101/4103/4104 naming the field."""
    return load_image_bytes(field, text, allow_reduced)[1]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or WireError 4103 as soon as it is known to exceed `limit` bytes (then stop reading)."""
    too_large = WireError(errors.IMAGE_TOO_LARGE, f"request body over {limit} bytes")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
