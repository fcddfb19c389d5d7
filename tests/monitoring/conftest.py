"""Fixtures for the monitoring tests: an app with an owner, and a record factory."""
from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from gateway.services import create_application

_names = itertools.count()


@pytest.fixture(autouse=True)
def check_alerts_on_every_call(settings):
    """Rules are checked after every recorded call here, so tests see alerts at once."""
    settings.FACEGATE_ALERT_CHECK_SECONDS = 0


@pytest.fixture
def app(db):
    owner = get_user_model().objects.create_user(f"mon{next(_names)}-{uuid.uuid4().hex[:6]}", password="x" * 12)
    application, _ = create_application(owner, f"mon{uuid.uuid4().hex[:8]}")
    return application


def make_record(app_id: int | None, api: str = "detect", code: str = "0", latency_ms: float = 50.0,
                ts: float | None = None, **extra: Any) -> dict[str, Any]:
    return {"request_id": uuid.uuid4().hex, "app_id": app_id, "api": api, "code": code, "latency_ms": latency_ms,
            "bytes_in": extra.get("bytes_in", 1000), "bytes_out": extra.get("bytes_out", 200),
            "ts": time.time() if ts is None else ts}


@pytest.fixture
def record() -> Callable[..., dict[str, Any]]:
    return make_record
