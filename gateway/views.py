"""HTTP adapters of the gateway: the DRF view in front of gateway.pipeline.handle_call, and /healthz."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from facegate import errors
from facegate.errors import WireError
from gateway.pipeline import handle_call
from gateway.wire import encode

log = logging.getLogger("facegate.gateway")


def wire_response(content: bytes) -> HttpResponse:
    return HttpResponse(content, status=200, content_type="application/json; charset=utf-8")


def raw_target(request: HttpRequest) -> tuple[str, str]:
    """(path, query) exactly as the client sent them: the server's raw request line when it gives
    one (gunicorn's RAW_URI), else the WSGI path re-encoded."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or ""
    scope = getattr(request, "scope", None)  # ASGI: the raw path is in the scope, the query beside it
    if not raw and scope and scope.get("raw_path"):
        raw = scope["raw_path"].decode("latin-1") + ("?" + scope["query_string"].decode("latin-1")
                                                      if scope.get("query_string") else "")
    if raw:
        if not raw.startswith("/"):  # absolute-form target (http://host/path)
            parts = urlsplit(raw)
            return parts.path or "/", parts.query
        path, _, query = raw.partition("?")
        return path, query
    return request.get_full_path().partition("?")[0], request.META.get("QUERY_STRING", "")


def body_stream(request: HttpRequest):
    """The body as a stream: a chunked body has no Content-Length, so Django's own stream would
    read it as empty; the server's input stream then gives the de-chunked bytes."""
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return request.META["wsgi.input"]
    return request


class FaceApiView(APIView):
    """Thin DRF adapter: every method on every path under the API prefix gets a wire reply, HTTP 200."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes: list = []
    http_method_names = ["post"]  # anything else, OPTIONS and HEAD too, is a wire error

    def perform_content_negotiation(self, request, force: bool = False):
        # The reply is always the wire JSON, whatever the client's Accept header asks for.
        return JSONRenderer(), "application/json"

    def post(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        django_request = request._request
        path, query = raw_target(django_request)
        content, _outcome = handle_call(path, django_request.headers, body_stream(django_request),
                                        django_request.request_id, query)
        return wire_response(content)

    def http_method_not_allowed(self, request, *args: Any, **kwargs: Any) -> HttpResponse:
        error = WireError(errors.BAD_BODY, f"method {request.method} not allowed; use POST")
        return wire_response(encode(error.reply()))

    def handle_exception(self, exc: Exception) -> HttpResponse:
        request_id = getattr(self.request, "request_id", "")
        log.exception("gateway error for request %s", request_id)
        return wire_response(encode(errors.error(errors.INTERNAL, f"internal error (request {request_id})")))


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
