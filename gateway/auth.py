"""Signature authentication for face calls (DRF authentication class).

Checks, in this order (the first failure wins):
  4001  AppKey, Timestamp or Sign missing or empty, or Timestamp not all digits
  4002  unknown AppKey, or the app is disabled
  4004  Timestamp not 13 digits (milliseconds) or outside ±FACEGATE_TIMESTAMP_WINDOW_SECONDS
  4003  Sign is not md5(AppKey + AppSecret + Timestamp + path + raw body)
  4004  the same Sign was already accepted within the window (replay)
  4005  the service code is not this app's code for the API of the path (unknown path too)
The sign is recorded in the replay cache only after it verified, so garbage cannot fill the cache.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http.request import RawPostDataException
from rest_framework.authentication import BaseAuthentication

from facegate import errors
from facegate.apis import API_BY_PATH, ApiSpec
from gateway import replay
from gateway.models import Application, ServiceCode
from gateway.signing import sign, verify
from gateway.wire import WireError


@dataclass(frozen=True)
class GatewayAuth:
    app: Application
    api: ApiSpec
    service_code: str


def raw_body(request) -> bytes:
    """The raw request body; too large a body is refused before anything else reads it."""
    django_request = getattr(request, "_request", request)
    try:
        return django_request.body
    except RawPostDataException:  # pragma: no cover - body already streamed elsewhere
        raise WireError(errors.BAD_BODY, "request body could not be read") from None
    except Exception as exc:  # RequestDataTooBig and friends
        if exc.__class__.__name__ == "RequestDataTooBig":
            raise WireError(errors.IMAGE_TOO_LARGE,
                            f"request body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes") from None
        raise


class SignatureAuthentication(BaseAuthentication):
    def authenticate(self, request) -> tuple[None, GatewayAuth]:
        headers = request._request.headers
        app_key = headers.get("AppKey", "").strip()
        timestamp = headers.get("Timestamp", "").strip()
        given_sign = headers.get("Sign", "").strip()
        if not app_key or not timestamp or not given_sign or not timestamp.isascii() or not timestamp.isdigit():
            raise WireError(errors.MISSING_HEADERS)

        kwargs = request.parser_context.get("kwargs", {}) if request.parser_context else {}
        service_code = str(kwargs.get("service_code", ""))
        spec = API_BY_PATH.get(str(kwargs.get("api_path", "")))
        # The 4005 check rides along in the app's query (one round trip); it is reported last, in order.
        app = Application.objects.filter(app_key=app_key).annotate(
            service_code_ok=Exists(ServiceCode.objects.filter(
                application=OuterRef("pk"), code=service_code, api=spec.name if spec else "")),
        ).first()
        if app is not None:
            request._request.facegate_app_id = app.pk  # monitoring attributes failed calls to the app
        if app is None or not app.is_active:
            raise WireError(errors.UNKNOWN_APP)

        window_ms = settings.FACEGATE_TIMESTAMP_WINDOW_SECONDS * 1000
        if len(timestamp) != 13:
            raise WireError(errors.STALE_OR_REPLAYED, "Timestamp must be 13 digits (milliseconds since epoch)")
        if abs(int(time.time() * 1000) - int(timestamp)) > window_ms:
            raise WireError(errors.STALE_OR_REPLAYED, "Timestamp outside the allowed window")

        path = request._request.path
        body = raw_body(request)
        if not verify(sign(app.app_key, app.app_secret, timestamp, path, body), given_sign):
            raise WireError(errors.BAD_SIGN)

        if not replay.first_seen(given_sign):
            raise WireError(errors.STALE_OR_REPLAYED, "request replayed (Sign already used)")

        if spec is None:
            raise WireError(errors.WRONG_SERVICE_CODE, "unknown API path")
        if not app.service_code_ok:
            raise WireError(errors.WRONG_SERVICE_CODE)
        return None, GatewayAuth(app=app, api=spec, service_code=service_code)

    def authenticate_header(self, request) -> str:
        return "Sign"
