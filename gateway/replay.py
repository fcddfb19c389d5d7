"""The replay cache: a Sign accepted once is refused for the rest of the timestamp window.

Shared by all gateway processes: Redis (SET NX EX) when settings.REDIS_URL is set, else the SeenSign
table whose unique index makes the insert the atomic "first seen" test.
"""
from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from gateway.models import SeenSign

# Prune old rows on about one insert in PRUNE_EVERY: cheap on average, bounded table size.
PRUNE_EVERY = 500
_INSERT = (f"INSERT INTO {SeenSign._meta.db_table} (sign, seen_at) VALUES (%s, %s) "
           "ON CONFLICT (sign) DO NOTHING RETURNING id")


def _ttl_seconds() -> int:
    # A sign older than the window fails the timestamp check anyway; keep it for two windows to
    # cover clock skew in both directions.
    return 2 * settings.FACEGATE_TIMESTAMP_WINDOW_SECONDS + 5


def first_seen(sign: str) -> bool:
    """Record the sign; True the first time, False when it was already seen (a replay)."""
    if settings.REDIS_URL:
        from django.core.cache import cache
        return bool(cache.add(f"facegate:sign:{sign}", 1, timeout=_ttl_seconds()))
    # One statement, no transaction and no exception: the unique index decides, and a replay
    # inserts nothing and so returns no row (SQLite >= 3.35 and PostgreSQL share this syntax).
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [sign, connection.ops.adapt_datetimefield_value(timezone.now())])
        if not cursor.fetchall():
            return False
    if random.randrange(PRUNE_EVERY) == 0:
        prune()
    return True


def prune() -> int:
    """Delete signs older than the replay TTL; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=_ttl_seconds())
    deleted, _ = SeenSign.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
