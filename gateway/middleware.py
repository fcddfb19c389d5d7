"""X-Request-Id on every response: an id generated here keys the ledger, monitoring and the logs;
a well-formed client id is echoed back as X-Client-Request-Id (facegate.request_ids)."""
from __future__ import annotations

from facegate.request_ids import CLIENT_ID_HEADER, client_request_id, new_request_id


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = new_request_id()
        client_id = client_request_id(request.headers.get("X-Request-Id"))
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        if client_id:
            response[CLIENT_ID_HEADER] = client_id
        return response
