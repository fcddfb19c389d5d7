"""Celery tasks of billing: returning reservations that no live request will settle."""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from billing.quota import release_stale

log = logging.getLogger(__name__)


@shared_task(name="billing.release_stale", ignore_result=True)
def release_stale_reservations() -> int:
    """Periodic (Celery beat): release reservations older than any live request can be, e.g. those of
    a gateway process killed mid-call, wherever the gateway runs. Returns how many."""
    released = release_stale(settings.FACEGATE_STALE_RESERVATION_SECONDS)
    if released:
        log.warning("released %d stale quota reservation(s)", released)
    return released
