"""X-Request-Id on every response; the id is also what the ledger and logs key on."""
from __future__ import annotations

import re
import uuid

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A well-formed client id is kept for tracing; anything else is replaced, never echoed.
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = incoming if _CLIENT_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response
