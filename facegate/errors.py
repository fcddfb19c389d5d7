"""Error codes of the wire protocol, shared by the gateway and the face backend."""
from __future__ import annotations

from typing import Any

SUCCESS = "0"

# Backend-owned (the vendor's codes).
IMAGE_MISSING = "4101"
BAD_BODY = "4102"
IMAGE_TOO_LARGE = "4103"
IMAGE_UNDECODABLE = "4104"
NO_FACE = "4105"
INTERNAL = "5000"

# Backend-owned, face library (ours beyond the vendor's).
FACE_LIMIT_REACHED = "4106"
LIBRARY_NOT_FOUND = "4107"
LIBRARY_EXISTS = "4108"

# Gateway-owned (ours beyond the vendor's).
MISSING_HEADERS = "4001"
UNKNOWN_APP = "4002"
BAD_SIGN = "4003"
STALE_OR_REPLAYED = "4004"
WRONG_SERVICE_CODE = "4005"
NO_QUOTA = "4291"
RATE_LIMITED = "4292"

MESSAGES: dict[str, str] = {
    IMAGE_MISSING: "image empty or parameter missing",
    BAD_BODY: "body is not JSON or has wrong types",
    IMAGE_TOO_LARGE: "image over 2 MB",
    IMAGE_UNDECODABLE: "image could not be decoded",
    NO_FACE: "no face found",
    INTERNAL: "internal error",
    FACE_LIMIT_REACHED: "the application's face library is full",
    LIBRARY_NOT_FOUND: "group, user or face not found",
    LIBRARY_EXISTS: "group already exists",
    MISSING_HEADERS: "missing AppKey, Timestamp or Sign header",
    UNKNOWN_APP: "unknown AppKey or disabled application",
    BAD_SIGN: "bad signature",
    STALE_OR_REPLAYED: "timestamp outside the allowed window, or request replayed",
    WRONG_SERVICE_CODE: "service code does not belong to this application or API",
    NO_QUOTA: "no valid quota left for this API",
    RATE_LIMITED: "too many requests",
}

# A call is charged when it succeeds or fails for the image's own reason; never otherwise.
CHARGEABLE_CODES: frozenset[str] = frozenset({SUCCESS, IMAGE_TOO_LARGE, IMAGE_UNDECODABLE, NO_FACE})


class WireError(Exception):
    """A refusal with its wire code; it becomes an HTTP 200 error reply wherever it is caught."""

    def __init__(self, code: str, details: str | None = None) -> None:
        super().__init__(code, details)
        self.code = code
        self.details = details or MESSAGES.get(code, "error")

    def reply(self) -> dict[str, Any]:
        return error(self.code, self.details)


def success(result: Any) -> dict[str, Any]:
    return {"code": SUCCESS, "message": "success", "result": result}


def error(code: str, details: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": "error", "details": details or MESSAGES.get(code, "error")}
