"""One signed call, top to bottom. Every face API call, from outside or from the console's Try it,
runs through handle_call:

  1. read the body, bounded         over FACEGATE_MAX_BODY_BYTES -> 4103, before auth, never charged
  2. authenticate                   gateway.auth: 4001-4005 (pure: headers, path and body in)
  3. rate limit                     gateway.ratelimit: 4292
  4. reserve the calls it may cost  facegate.metering.plan, billing.quota.reserve: 4291 when no pack
                                    has enough left (free library operations reserve nothing)
  5. forward to the face backend    gateway.forwarding: the backend's wire reply, or 5000
  6. settle the reservation         billing.quota.settle: the calls the reply charges, the rest released
  7. hand the outcome to monitoring monitoring.intake.submit(CallOutcome)

Refusals are WireErrors; whatever the step, the reply is the wire format with HTTP 200.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import BinaryIO

from django.conf import settings

from billing import quota
from facegate import errors
from facegate.errors import WireError
from facegate.metering import charged_units, plan
from gateway import ratelimit
from gateway.auth import AuthError, Caller, authenticate
from gateway.forwarding import forward
from gateway.library_admin import refuse_operator_fields
from gateway.wire import encode
from monitoring.intake import submit
from monitoring.outcome import CallOutcome

log = logging.getLogger("facegate.gateway")

_READ_CHUNK = 64 * 1024


def read_bounded(stream: BinaryIO, limit: int) -> bytes:
    """The whole body from a stream (chunked bodies included), or WireError 4103 past `limit` bytes.

    Reads at most limit + 1 bytes, so an oversized body costs bounded memory whatever it claims.
    """
    chunks, size = [], 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise WireError(errors.IMAGE_TOO_LARGE, f"request body over {limit} bytes")
        chunks.append(chunk)


def handle_call(path: str, headers: Mapping[str, str], body: bytes | BinaryIO, request_id: str,
                query: str = "") -> tuple[bytes, CallOutcome]:
    """The wire reply (JSON bytes) of one call and what monitoring records of it.

    `path` is the request path exactly as sent (percent-encoding intact) and `query` the raw query
    string: both are what the client signed.
    """
    started, arrived = time.perf_counter(), time.time()
    caller: Caller | None = None
    app_id: int | None = None
    bytes_in = len(body) if isinstance(body, bytes) else 0
    try:
        if not isinstance(body, bytes):
            body = read_bounded(body, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            bytes_in = len(body)
        caller = authenticate(path, query, headers, body)
        app_id = caller.app.pk
        code, reply = _metered_call(caller, body, request_id)
    except AuthError as exc:
        app_id = exc.app_id
        code, reply = exc.code, encode(exc.reply())
    except WireError as exc:
        code, reply = exc.code, encode(exc.reply())
    except Exception:
        log.exception("gateway error for request %s", request_id)
        code = errors.INTERNAL
        reply = encode(errors.error(errors.INTERNAL, f"internal error (request {request_id})"))
    outcome = CallOutcome(
        request_id=request_id, app_id=app_id, api=caller.api.name if caller else "", code=code,
        latency_ms=round((time.perf_counter() - started) * 1000, 3), bytes_in=bytes_in,
        bytes_out=len(reply), ts=arrived, signed=caller is not None,
    )
    submit(outcome)
    return reply, outcome


def _metered_call(caller: Caller, body: bytes, request_id: str) -> tuple[str, bytes]:
    """Steps 3-6 for an authenticated caller: (code, reply bytes)."""
    if not ratelimit.allow(caller.app):
        raise WireError(errors.RATE_LIMITED)
    if caller.op == "app/settings":
        refuse_operator_fields(body)
    metering = plan(caller.api.name, caller.op, body)
    charge = None
    if metering.units:
        charge = quota.reserve(caller.app, caller.api.name, request_id, metering.units)
        if charge is None:
            raise WireError(errors.NO_QUOTA)
    code, units = errors.INTERNAL, 0
    try:
        reply = forward(caller.api.name, body, request_id, caller.op, caller.app.pk)
        code, units = reply.code, charged_units(metering, reply.payload)
    finally:
        # Always settle: what the reply does not charge (an exception here: nothing) is released.
        if charge is not None:
            quota.settle(charge, code, units)
    return code, reply.content
