"""Request ids: generated server-side for every request; a client's own id is only echoed.

The id keys the charge ledger, the monitoring record and the logs, so it must be unique and must
not be choosable by a client (a client-chosen id could collide with another tenant's call).
"""
from __future__ import annotations

import re
import uuid

# A client id worth echoing and logging: short, printable, no separators that could forge log lines.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CLIENT_ID_HEADER = "X-Client-Request-Id"


def new_request_id() -> str:
    return uuid.uuid4().hex


def client_request_id(value: str | None) -> str | None:
    """The client's X-Request-Id when it is well-formed, else None (never echoed as sent)."""
    return value if value and _CLIENT_ID.match(value) else None
