"""A minimal signing client for facegate's wire protocol (used by tests, benchmarks and docs)."""
from __future__ import annotations

import time

from facegate.apis import public_path
from gateway.signing import sign


def signed_headers(app_key: str, app_secret: str, path: str, body: bytes, timestamp: str | None = None) -> dict:
    ts = timestamp or str(int(round(time.time() * 1000)))
    return {"Content-Type": "application/json", "AppKey": app_key, "Timestamp": ts,
            "Sign": sign(app_key, app_secret, ts, path, body)}


def signed_request(app_key: str, app_secret: str, service_code: str, api: str, body: bytes,
                   timestamp: str | None = None) -> tuple[str, dict]:
    """The path and headers of a signed call to `api` with this raw body."""
    path = public_path(service_code, api)
    return path, signed_headers(app_key, app_secret, path, body, timestamp)
