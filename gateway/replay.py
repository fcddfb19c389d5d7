"""The replay cache: a Sign accepted once is refused for the rest of the timestamp window.

Shared by all gateway processes: Redis (SET NX EX) when settings.REDIS_URL is set, else the SeenSign
table whose unique index makes the insert the atomic "first seen" test.
"""
from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from gateway.models import SeenSign

# Prune old rows on about one insert in PRUNE_EVERY: cheap on average, bounded table size.
PRUNE_EVERY = 500


def _ttl_seconds() -> int:
    # A sign older than the window fails the timestamp check anyway; keep it for two windows to
    # cover clock skew in both directions.
    return 2 * settings.FACEGATE_TIMESTAMP_WINDOW_SECONDS + 5


def first_seen(sign: str) -> bool:
    """Record the sign; True the first time, False when it was already seen (a replay)."""
    if settings.REDIS_URL:
        from django.core.cache import cache
        return bool(cache.add(f"facegate:sign:{sign}", 1, timeout=_ttl_seconds()))
    now = timezone.now()
    try:
        with transaction.atomic():
            SeenSign.objects.create(sign=sign, seen_at=now)
    except IntegrityError:
        return False
    if random.randrange(PRUNE_EVERY) == 0:
        prune()
    return True


def prune() -> int:
    """Delete signs older than the replay TTL; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=_ttl_seconds())
    deleted, _ = SeenSign.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
