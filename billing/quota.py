"""Quota: reserve a call before forwarding, settle it by the backend's code. Never oversells.

Why it cannot oversell: the pack is taken with a conditional UPDATE
(`calls_used <= calls_total - units`), which the database evaluates against the latest committed
row (PostgreSQL re-checks the WHERE after waiting for a concurrent writer's row lock; SQLite runs
writers one at a time with BEGIN IMMEDIATE), and a CHECK constraint refuses an oversold pack anyway.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import Charge, ResourcePack
from facegate.apis import API_NAMES
from facegate.errors import CHARGEABLE_CODES
from gateway.models import Application


def reserve(app: Application, api: str, request_id: str, units: int = 1) -> Charge | None:
    """Take `units` calls from the usable pack that expires first and write a reserved Charge.

    Returns None when no pack has enough left (the caller answers 4291); then nothing is written.
    Raises IntegrityError (nothing written) when a Charge with this request_id already exists.
    """
    now = timezone.now()
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
    with transaction.atomic():
        changed = Charge.objects.filter(pk=charge.pk, status=Charge.Status.RESERVED).update(
            status=status, result_code=str(code)[:8], settled_at=now, units=charged or charge.units)
        if changed and returned:
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
