"""Which model pack the face backend runs: the false accept rate a compare score implies is measured
per pack (facegate.operating_points), and only the backend knows its pack (its /health says)."""
from __future__ import annotations

import time

import requests
from django.conf import settings

from gateway.forwarding import session

CACHE_S = 60.0  # a pack changes only when the backend restarts
_cached: tuple[float, str] = (0.0, "")


def backend_pack() -> str:
    """The pack name from the first backend that answers /health; "" when none does."""
    global _cached
    now = time.monotonic()
    if _cached[1] and now - _cached[0] < CACHE_S:
        return _cached[1]
    for url in settings.FACEGATE_BACKEND_URLS:
        try:
            reply = session().get(url.rstrip("/") + "/health", timeout=5,
                                  headers={"X-Facegate-Token": settings.FACEGATE_BACKEND_TOKEN})
            pack = reply.json().get("pack", "") if reply.status_code == 200 else ""
        except (requests.RequestException, ValueError, AttributeError):
            continue
        if isinstance(pack, str) and pack:
            _cached = (now, pack)
            return pack
    return ""
