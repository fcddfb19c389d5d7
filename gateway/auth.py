"""Who is calling: the signature check of one call, without any HTTP framework.

Checks, in this order (the first failure wins):
  4001  AppKey, Timestamp or Sign missing or empty, or Timestamp not all digits
  4002  unknown AppKey, or the app is disabled
  4004  Timestamp not 13 digits (milliseconds) or outside ±FACEGATE_TIMESTAMP_WINDOW_SECONDS
  4003  Sign is not md5(AppKey + AppSecret + Timestamp + signed path + raw body)
  4004  the same Sign was already accepted within the window (replay)
  4005  the service code is not this app's code for the API of the path (unknown path too)
The signed path is the request path exactly as the client sent it (percent-encoding intact), plus
"?" and the query string when there is one. The sign enters the replay cache only after it
verified, so garbage cannot fill the cache.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from facegate import errors
from facegate.apis import ApiSpec, parse_public_path
from facegate.errors import WireError
from gateway import replay
from gateway.models import Application, ServiceCode
from facegate.signing import sign, verify


# The app of an AppKey and whether the path's service code is its code for the path's API. Written
# as SQL: Django compiling the same query cost more CPU than the database running it, on every call.
_APP_BY_KEY = (
    f"SELECT a.*, EXISTS(SELECT 1 FROM {ServiceCode._meta.db_table} s WHERE s.application_id = a.id "
    f"AND s.code = %s AND s.api = %s) AS service_code_ok FROM {Application._meta.db_table} a WHERE a.app_key = %s")


@dataclass(frozen=True)
class Caller:
    """An authenticated call: the app and the API its service code names."""

    app: Application
    api: ApiSpec
    op: str = ""  # the library operation, for the library API


class AuthError(WireError):
    """A refused call; app_id names the app the AppKey found (its owner sees the failure)."""

    def __init__(self, code: str, details: str | None = None, app_id: int | None = None) -> None:
        super().__init__(code, details)
        self.app_id = app_id


def signed_target(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def authenticate(path: str, query: str, headers: Mapping[str, str], body: bytes) -> Caller:
    """The caller of a signed call, or AuthError with the first failing code."""
    app_key = headers.get("AppKey", "").strip()
    timestamp = headers.get("Timestamp", "").strip()
    given_sign = headers.get("Sign", "").strip()
    if not app_key or not timestamp or not given_sign or not timestamp.isascii() or not timestamp.isdigit():
        raise AuthError(errors.MISSING_HEADERS)

    route = parse_public_path(path)
    service_code, spec = route.service_code, route.api
    # The 4005 check rides along in the app's query (one round trip); it is reported last, in order.
    app = next(iter(Application.objects.raw(_APP_BY_KEY, [service_code, spec.name if spec else "", app_key[:64]])), None)
    if app is None:
        raise AuthError(errors.UNKNOWN_APP)
    if not app.is_active:
        raise AuthError(errors.UNKNOWN_APP, app_id=app.pk)

    window_ms = settings.FACEGATE_TIMESTAMP_WINDOW_SECONDS * 1000
    if len(timestamp) != 13:
        raise AuthError(errors.STALE_OR_REPLAYED, "Timestamp must be 13 digits (milliseconds since epoch)", app.pk)
    if abs(int(time.time() * 1000) - int(timestamp)) > window_ms:
        raise AuthError(errors.STALE_OR_REPLAYED, "Timestamp outside the allowed window", app.pk)

    if not verify(sign(app.app_key, app.app_secret, timestamp, signed_target(path, query), body), given_sign):
        raise AuthError(errors.BAD_SIGN, app_id=app.pk)
    if not replay.first_seen(given_sign):
        raise AuthError(errors.STALE_OR_REPLAYED, "request replayed (Sign already used)", app.pk)

    if spec is None:
        raise AuthError(errors.WRONG_SERVICE_CODE, "unknown API path", app.pk)
    if not app.service_code_ok:
        raise AuthError(errors.WRONG_SERVICE_CODE, app_id=app.pk)
    return Caller(app=app, api=spec, op=route.op)
