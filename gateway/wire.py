"""Wire replies: HTTP 200 with a JSON body {"code","message",...}, as the vendor protocol has it."""
from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from facegate.errors import error


class WireError(Exception):
    """A gateway refusal that becomes an HTTP 200 wire error body."""

    def __init__(self, code: str, details: str | None = None, status: int = 200) -> None:
        super().__init__(code, details)
        self.code, self.details, self.status = code, details, status

    def body(self) -> dict[str, Any]:
        return error(self.code, self.details)


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return raw_json_response(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), status)


def raw_json_response(content: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(content, status=status, content_type="application/json; charset=utf-8")
