"""The face API endpoint: auth → rate limit → reserve quota → forward → settle → reply → record."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from rest_framework.views import APIView

from billing import quota
from facegate import errors
from gateway import ratelimit
from gateway.auth import GatewayAuth, SignatureAuthentication, raw_body
from gateway.forwarding import forward
from gateway.wire import WireError, json_response, raw_json_response

log = logging.getLogger("facegate.gateway")


class FaceApiView(APIView):
    authentication_classes = [SignatureAuthentication]
    permission_classes: list = []
    parser_classes: list = []

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        # Reject other methods before authenticating: they can never be a valid call.
        if request.method != "POST":
            raise WireError(errors.BAD_BODY, f"method {request.method} not allowed; use POST", status=405)
        super().initial(request, *args, **kwargs)

    def post(self, request, service_code: str, api_path: str) -> HttpResponse:
        auth: GatewayAuth = request.auth
        app, api = auth.app, auth.api.name
        if not ratelimit.allow(app):
            raise WireError(errors.RATE_LIMITED)
        body = raw_body(request)
        charge = self._reserve(request, app, api)
        if charge is None:
            raise WireError(errors.NO_QUOTA)
        code = errors.INTERNAL
        try:
            reply = forward(api, body, request._request.request_id)
            code = reply.code
        finally:
            request._request.wire_code = code
            # Always settle: anything but a chargeable code (incl. an exception here) releases the call.
            quota.settle(charge, code)
        return raw_json_response(reply.content)

    @staticmethod
    def _reserve(request, app, api: str):
        # One unit per call: every API takes one image (compare: one pair) per call.
        try:
            return quota.reserve(app, api, request._request.request_id)
        except IntegrityError:
            # A client-chosen X-Request-Id already used for another call: give this call a fresh id.
            request._request.request_id = uuid.uuid4().hex
            return quota.reserve(app, api, request._request.request_id)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        django_request = getattr(getattr(self, "request", None), "_request", None)
        if isinstance(exc, WireError):
            if django_request is not None:
                django_request.wire_code = exc.code
            return json_response(exc.body(), status=exc.status)
        if django_request is not None:
            django_request.wire_code = errors.INTERNAL
        request_id = getattr(self.request, "request_id", "") if getattr(self, "request", None) else ""
        log.exception("gateway error for request %s", request_id)
        return json_response(errors.error(errors.INTERNAL, f"internal error (request {request_id})"))

    def dispatch(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.perf_counter()
        response = super().dispatch(request, *args, **kwargs)
        _record(self.request, request, response, started)
        return response


def _record(drf_request, django_request, response: HttpResponse, started: float) -> None:
    """Hand the call to the monitoring task; a broker failure never fails the call."""
    try:
        auth = getattr(drf_request, "_auth", None)
        code = getattr(django_request, "wire_code", "") or _reply_code(response)
        record = {
            "request_id": django_request.request_id,
            "app_id": auth.app.pk if isinstance(auth, GatewayAuth) else _app_id_from_key(django_request),
            "api": auth.api.name if isinstance(auth, GatewayAuth) else "",
            "code": code,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "bytes_in": int(django_request.META.get("CONTENT_LENGTH") or 0),
            "bytes_out": len(response.content) if hasattr(response, "content") else 0,
            "ts": time.time(),
        }
        from monitoring.tasks import record_call  # lazy: the monitoring app may load later
        record_call.delay(record)
    except Exception:
        log.warning("could not record call %s", getattr(django_request, "request_id", "?"), exc_info=True)


def _reply_code(response: HttpResponse) -> str:
    import json
    try:
        return str(json.loads(response.content).get("code", ""))
    except Exception:
        return ""


def _app_id_from_key(django_request) -> int | None:
    """For failed auth: the app the AppKey names (if any), so its owner sees the failures."""
    if hasattr(django_request, "facegate_app_id"):  # auth found it already
        return django_request.facegate_app_id
    from gateway.models import Application
    key = django_request.headers.get("AppKey", "").strip()
    if not key:
        return None
    return Application.objects.filter(app_key=key[:32]).values_list("pk", flat=True).first()


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})
