"""The hand-off from the call pipeline to monitoring: one CallOutcome per call, queued for the worker.

Outcomes are sent in batches (monitoring.record_calls): a background thread of each gateway process
sends what arrived within FACEGATE_METRICS_BATCH_SECONDS (or MAX_BATCH outcomes, whichever comes
first), so a call costs a queue put instead of a broker round trip. A process killed with SIGKILL
loses at most that window of metrics; a normal exit flushes. With 0 seconds, or Celery in eager mode,
each outcome is sent at once.

Calls that failed before the signature was verified cost an attacker nothing, so their records are
bounded (UNSIGNED_PER_SECOND per app, and as many more for calls naming no app): a flood of unsigned
requests cannot write per-app rows at the rate a signed client could.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from facegate import errors
from monitoring.outcome import CallOutcome
from monitoring.tasks import record_calls

log = logging.getLogger("facegate.monitoring")

UNSIGNED_PER_SECOND = 20
MAX_BATCH = 200
_POLL_SECONDS = 0.05
# Codes answered before the Sign verified (4103 here is the gateway's body limit, before auth).
UNSIGNED_CODES = frozenset({errors.MISSING_HEADERS, errors.UNKNOWN_APP, errors.BAD_SIGN,
                            errors.STALE_OR_REPLAYED, errors.IMAGE_TOO_LARGE, errors.BAD_BODY})


def _within_unsigned_budget(app_id: int | None, now: float) -> bool:
    key = f"facegate:unsigned:{app_id or 0}:{int(now)}"
    cache.add(key, 0, timeout=3)
    try:
        return cache.incr(key) <= UNSIGNED_PER_SECOND
    except ValueError:  # expired between add and incr: a new second has started
        return True


class OutcomeBatcher:
    """Collects records and sends them as batches from a background thread, one per process."""

    def __init__(self, window: float, send: Callable[[list[dict[str, Any]]], None], max_batch: int = MAX_BATCH) -> None:
        self.window, self.send, self.max_batch = window, send, max_batch
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0  # the thread belongs to the process that started it (gunicorn forks)

    def put(self, record: dict[str, Any]) -> None:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._queue = queue.SimpleQueue()
                    threading.Thread(target=self._run, name="metrics-batcher", daemon=True).start()
                    atexit.register(self.flush)
                    self._pid = os.getpid()
        self._queue.put(record)

    def flush(self) -> None:
        """Send everything queued now (process exit)."""
        batch = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            self.send(batch)

    def _run(self) -> None:
        while True:
            pending = [self._queue.get()]
            # Look at the queue a few times per window instead of waiting on it: a waiting thread
            # was woken (and took the GIL from the request threads) by every call's put.
            deadline = time.monotonic() + self.window
            while self._queue.qsize() + 1 < self.max_batch and (remaining := deadline - time.monotonic()) > 0:
                time.sleep(min(remaining, _POLL_SECONDS))
            while len(pending) < self.max_batch:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.send(pending)


def _send(batch: list[dict[str, Any]]) -> None:
    try:
        record_calls.delay(batch)
    except Exception:  # a broker outage must never fail or slow the calls themselves
        log.warning("could not hand %d call record(s) to monitoring", len(batch), exc_info=True)


_batcher = OutcomeBatcher(settings.FACEGATE_METRICS_BATCH_SECONDS, _send)


def submit(outcome: CallOutcome) -> bool:
    """Queue the outcome for the monitoring worker; False when dropped. Never raises."""
    try:
        if not outcome.signed and not _within_unsigned_budget(outcome.app_id, outcome.ts):
            return False
        if settings.CELERY_TASK_ALWAYS_EAGER or _batcher.window <= 0:
            record_calls.delay([outcome.as_record()])
        else:
            _batcher.put(outcome.as_record())
        return True
    except Exception:
        log.warning("could not record call %s", outcome.request_id, exc_info=True)
        return False
