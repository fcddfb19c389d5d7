"""The hand-off from the call pipeline to monitoring: one CallOutcome per call, queued for the worker.

Calls that failed before the signature was verified cost an attacker nothing, so their records are
bounded (UNSIGNED_PER_SECOND per app, and as many more for calls naming no app): a flood of unsigned
requests cannot write per-app rows at the rate a signed client could.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from facegate import errors
from monitoring.tasks import record_call

log = logging.getLogger("facegate.monitoring")

UNSIGNED_PER_SECOND = 20
# Codes answered before the Sign verified (4103 here is the gateway's body limit, before auth).
UNSIGNED_CODES = frozenset({errors.MISSING_HEADERS, errors.UNKNOWN_APP, errors.BAD_SIGN,
                            errors.STALE_OR_REPLAYED, errors.IMAGE_TOO_LARGE, errors.BAD_BODY})


@dataclass(frozen=True)
class CallOutcome:
    """What monitoring records of one gateway call (the Celery task's payload, as a dict)."""

    request_id: str
    app_id: int | None
    api: str
    code: str
    latency_ms: float
    bytes_in: int
    bytes_out: int
    ts: float  # epoch seconds when the call arrived
    signed: bool  # the Sign verified (authenticated caller)

    def as_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _within_unsigned_budget(app_id: int | None, now: float) -> bool:
    key = f"facegate:unsigned:{app_id or 0}:{int(now)}"
    cache.add(key, 0, timeout=3)
    try:
        return cache.incr(key) <= UNSIGNED_PER_SECOND
    except ValueError:  # expired between add and incr: a new second has started
        return True


def submit(outcome: CallOutcome) -> bool:
    """Queue the outcome for the monitoring worker; False when dropped. Never raises."""
    try:
        if not outcome.signed and not _within_unsigned_budget(outcome.app_id, outcome.ts):
            return False
        record_call.delay(outcome.as_record())
        return True
    except Exception:
        log.warning("could not record call %s", outcome.request_id, exc_info=True)
        return False
