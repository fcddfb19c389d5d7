"""4292: requests per second per application, shared by every gateway process.

With REDIS_URL: an INCR on a per-app, per-second key that expires. Without: one RateCounter row per
app holding (second, count), bumped by a single conditional UPDATE — the database serialises
concurrent writers, so the limit holds across processes with one small write per call.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from gateway.models import Application, RateCounter

# New second: reset to 1; same second: +1 only while under the limit. (SQL: compiling it with the
# ORM cost more CPU per call than running it.)
_BUMP = (f'UPDATE {RateCounter._meta.db_table} SET "count" = CASE WHEN "second" = %s THEN "count" + 1 ELSE 1 END, '
         f'"second" = %s WHERE application_id = %s AND ("second" <> %s OR "count" < %s)')


def limit_for(app: Application) -> int:
    return app.rate_limit_per_second or settings.FACEGATE_DEFAULT_RATE_LIMIT


def allow(app: Application, now: float | None = None) -> bool:
    """Count this request; False when the app is over its limit in the current second."""
    limit = limit_for(app)
    if limit <= 0:  # 0 or negative site default = unlimited
        return True
    second = int(time.time() if now is None else now)
    if settings.REDIS_URL:
        return _allow_redis(app.pk, second, limit)
    def bump() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(_BUMP, [second, second, app.pk, second, limit])
            return cursor.rowcount > 0

    if bump():
        return True
    try:
        with transaction.atomic():
            RateCounter.objects.create(application=app, second=second, count=1)
        return True
    except IntegrityError:
        # The row exists: it was full for this second, or another process created it a moment ago
        # (refusing then wrongly answered 4292 to the first concurrent calls of an app); bump decides.
        return bump()

def _allow_redis(app_id: int, second: int, limit: int) -> bool:
    from django.core.cache import cache
    key = f"facegate:rate:{app_id}:{second}"
    cache.add(key, 0, timeout=3)
    return cache.incr(key) <= limit
