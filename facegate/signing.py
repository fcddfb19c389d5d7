"""The request signature: lowercase hex MD5 of AppKey + AppSecret + Timestamp + path + raw body."""
from __future__ import annotations

import hashlib
import hmac


def sign(app_key: str, app_secret: str, timestamp: str, path: str, body: bytes) -> str:
    # The body is hashed as the raw bytes received, so no re-encoding can change the signature.
    return hashlib.md5(f"{app_key}{app_secret}{timestamp}{path}".encode() + body).hexdigest()


def verify(expected: str, given: str) -> bool:
    """Constant-time comparison, case-sensitive on the lowercase hex the protocol prescribes."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
