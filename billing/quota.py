"""Quota: reserve a call before forwarding, settle it by the backend's code. Never oversells.

Why it cannot oversell: the pack is taken with a conditional UPDATE
(`calls_used <= calls_total - units`), which the database evaluates against the latest committed
row (PostgreSQL re-checks the WHERE after waiting for a concurrent writer's row lock; SQLite runs
writers one at a time with BEGIN IMMEDIATE), and a CHECK constraint refuses an oversold pack anyway.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import Charge, ResourcePack
from facegate.apis import API_NAMES
from facegate.errors import CHARGEABLE_CODES
from gateway.models import Application


# The hot path (every metered call) is written as SQL: one statement to reserve and one to settle on
# PostgreSQL (data-modifying CTEs), two inside one BEGIN IMMEDIATE transaction on SQLite (which has
# none; its statements are in-process calls, not network round trips). The ORM loop in reserve() is
# the fallback for the rare race below. tests/gateway/test_gw_statements.py pins the statements.
_PACKS, _CHARGES = ResourcePack._meta.db_table, Charge._meta.db_table
T = TypeVar("T")
_SETTLE = (f"UPDATE {_CHARGES} SET status = %s, result_code = %s, settled_at = %s, units = %s "
           f"WHERE id = %s AND status = %s")


def _rows(sql: str, params: list) -> list[tuple]:
    """The rows a statement returns (all of them: SQLite ends, and so commits, a RETURNING
    statement only when its last row is read)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _count(sql: str, params: list) -> int:
    """How many rows a statement changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _one_statement(run: Callable[..., T], *args: Any) -> T:
    """run(*args) alone (autocommit), or under a savepoint inside a caller's transaction, so that a
    failing statement leaves that transaction usable."""
    if connection.in_atomic_block:
        with transaction.atomic():
            return run(*args)
    return run(*args)


def _take_first_usable(app: Application, api: str, now: datetime, units: int) -> tuple[str, list]:
    """UPDATE ... RETURNING id taking `units` calls from the usable pack that expires first
    (PackQuerySet.active's rule), re-checking its room as it takes them."""
    first = ResourcePack.objects.active(app.pk, now, api).filter(
        calls_used__lte=F("calls_total") - units).order_by("expires_at", "id").values("pk")[:1]
    pick, pick_params = first.query.sql_with_params()
    return (f"UPDATE {_PACKS} SET calls_used = calls_used + %s WHERE id = ({pick}) "
            f"AND calls_used <= calls_total - %s RETURNING id", [units, *pick_params, units])


def _reserve_first(app: Application, api: str, request_id: str, units: int, now: datetime) -> Charge | None:
    """The reservation from the first usable pack, or None when that pack had no room."""
    take, take_params = _take_first_usable(app, api, now, units)
    insert = (f"INSERT INTO {_CHARGES} (request_id, application_id, api, units, status, result_code, created_at, "
              f"pack_id) ")
    values = [request_id, app.pk, api, units, Charge.Status.RESERVED.value, "",
              connection.ops.adapt_datetimefield_value(now)]
    if connection.vendor == "postgresql":
        rows = _one_statement(_rows, f"WITH taken AS ({take}) {insert} SELECT %s, %s, %s, %s, %s, %s, %s, id "
                                     f"FROM taken RETURNING id, pack_id", [*take_params, *values])
    else:
        with transaction.atomic():  # BEGIN IMMEDIATE: no other writer between the two statements
            taken = _rows(take, take_params)
            rows = _rows(f"{insert} VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, pack_id",
                         [*values, taken[0][0]]) if taken else []
    if not rows:
        return None
    charge = Charge(id=rows[0][0], request_id=request_id, application=app, api=api, pack_id=rows[0][1],
                    units=units, status=Charge.Status.RESERVED, result_code="", created_at=now)
    charge._state.adding, charge._state.db = False, connection.alias
    return charge


def reserve(app: Application, api: str, request_id: str, units: int = 1) -> Charge | None:
    """Take `units` calls from the usable pack that expires first and write a reserved Charge.

    Returns None when no pack has enough left (the caller answers 4291); then nothing is written.
    Raises IntegrityError (nothing written) when a Charge with this request_id already exists.
    """
    now = timezone.now()
    charge = _reserve_first(app, api, request_id, units, now)
    if charge is not None:
        return charge
    # On PostgreSQL a concurrent request may have taken the first pack's last calls after the
    # statement chose it: then every usable pack is tried in turn. (Also how "none left" is confirmed.)
    with transaction.atomic():
        usable = ResourcePack.objects.active(app.pk, now, api).filter(
            calls_used__lte=F("calls_total") - units,
        ).order_by("expires_at", "id")
        for pack_id in list(usable.values_list("pk", flat=True)[:20]):
            # The same condition again, atomically: a concurrent request may have taken the last calls.
            taken = ResourcePack.objects.filter(
                pk=pack_id, calls_used__lte=F("calls_total") - units,
            ).update(calls_used=F("calls_used") + units)
            if taken:
                return Charge.objects.create(request_id=request_id, application=app, api=api, pack_id=pack_id,
                                             units=units, status=Charge.Status.RESERVED)
    return None


def settle(charge: Charge, code: str, units: int | None = None) -> Charge:
    """Charge `units` of the reservation (default: all of them for a chargeable code, else none) and
    release the rest back to its pack.

    Conditional on the charge still being reserved, so settle and release_stale never both apply.
    """
    charged = (charge.units if str(code) in CHARGEABLE_CODES else 0) if units is None else max(0, min(units, charge.units))
    status = Charge.Status.CHARGED if charged else Charge.Status.RELEASED
    returned = charge.units - charged
    now = timezone.now()
    params = [status.value, str(code)[:8], connection.ops.adapt_datetimefield_value(now), charged or charge.units,
              charge.pk, Charge.Status.RESERVED.value]
    if not returned:  # the usual case: a successful call charged in full
        changed = _one_statement(_count, _SETTLE, params)
    elif connection.vendor == "postgresql":
        changed = _one_statement(_count, f"WITH settled AS ({_SETTLE} RETURNING pack_id) UPDATE {_PACKS} "
                                         f"SET calls_used = calls_used - %s WHERE id IN (SELECT pack_id FROM settled)",
                                 [*params, returned])
    else:
        with transaction.atomic():
            changed = _count(_SETTLE, params)
            if changed:
                ResourcePack.objects.filter(pk=charge.pack_id).update(calls_used=F("calls_used") - returned)
    if changed:
        charge.status, charge.result_code, charge.settled_at = status, str(code)[:8], now
        charge.units = charged or charge.units
    else:
        charge.refresh_from_db()
    return charge


def release_stale(older_than_seconds: float) -> int:
    """Release reservations left by crashed requests (older than the backend timeout). Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    released = 0
    for charge in Charge.objects.filter(status=Charge.Status.RESERVED, created_at__lt=cutoff).iterator():
        if settle(charge, "").status == Charge.Status.RELEASED:
            released += 1
    return released


def _used_since(app: Application, api: str, since: datetime) -> int:
    total = Charge.objects.filter(application=app, api=api, status=Charge.Status.CHARGED,
                                  created_at__gte=since).aggregate(n=Sum("units"))["n"]
    return int(total or 0)


def usage(app: Application) -> dict[str, dict[str, Any]]:
    """Per API: {"remaining", "used_today", "used_month", "packs": [...]}.

    remaining counts unexpired packs only; packs lists every pack (expired ones flagged) with
    id, source, calls_total, calls_used, calls_left, starts_at, expires_at (datetimes), expired.
    "Today" and "this month" are in settings.TIME_ZONE.
    """
    now = timezone.now()
    local = timezone.localtime(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    packs_by_api: dict[str, list[ResourcePack]] = {api: [] for api in API_NAMES}
    for pack in ResourcePack.objects.filter(application=app).order_by("expires_at", "id"):
        packs_by_api.setdefault(pack.api, []).append(pack)
    live_ids = set(ResourcePack.objects.active(app.pk, now).values_list("pk", flat=True))
    report: dict[str, dict[str, Any]] = {}
    for api, packs in packs_by_api.items():
        live = [p for p in packs if p.pk in live_ids]
        report[api] = {
            "remaining": sum(p.calls_left for p in live),
            "used_today": _used_since(app, api, day_start),
            "used_month": _used_since(app, api, month_start),
            "packs": [
                {"id": p.pk, "source": p.source, "calls_total": p.calls_total, "calls_used": p.calls_used,
                 "calls_left": p.calls_left, "starts_at": p.starts_at, "expires_at": p.expires_at,
                 "expired": p.expires_at <= now}
                for p in packs
            ],
        }
    return report
