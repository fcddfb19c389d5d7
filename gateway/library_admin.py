"""The gateway's own face-library administration, beside the clients' signed calls.

- An app's library settings: a signed `app/settings` may change the operating point and whether
  photos are kept; the face limit (storage the operator grants) only the operator sets, through
  `set_library_settings` (`facegate admin library-settings`).
- Removing a deleted app's library: `gateway.services.delete_application` writes a LibraryPurge row
  in the same transaction as the app's new status (an outbox); `purge_deleted_apps` asks the backend
  to delete the app's library (`app/delete`, idempotent) and removes the row only once the backend
  confirmed. The admin command runs it at once; the Celery beat task `gateway.purge_libraries`
  retries every housekeeping period, so a backend that was down learns of it when it is back.
"""
from __future__ import annotations

import json
import logging
import uuid

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from facegate import errors
from facegate.apis import LIBRARY, OPERATOR_LIBRARY_SETTINGS
from facegate.errors import WireError
from gateway.forwarding import forward
from gateway.models import LibraryPurge

log = logging.getLogger("facegate.library")


class LibraryAdminError(Exception):
    """The backend did not apply an administration request (unreachable, or a refusal)."""


def refuse_operator_fields(body: bytes) -> None:
    """WireError 4102 when a client's signed `app/settings` names a setting only the operator sets.

    A body that is not a JSON object goes on to the backend, which answers its own code for it.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return
    named = [name for name in OPERATOR_LIBRARY_SETTINGS if isinstance(data, dict) and name in data]
    if named:
        raise WireError(errors.BAD_BODY, f"{named[0]} is set by the operator (facegate admin library-settings)")


def _admin_call(app_id: int, op: str, body: dict) -> dict:
    """The backend's result for one administration request of an app, or LibraryAdminError."""
    request_id = f"admin-{uuid.uuid4().hex}"
    reply = forward(LIBRARY, json.dumps(body).encode(), request_id, op, app_id)
    if reply.code != errors.SUCCESS:
        details = reply.payload.get("details") or reply.payload.get("message") or reply.content[:200].decode(errors="replace")
        raise LibraryAdminError(f"library {op} for app {app_id}: code {reply.code}: {details}")
    return reply.payload.get("result") or {}


def set_library_settings(app_id: int, changes: dict) -> dict:
    """Apply the operator's settings (face_limit, operating_point, store_photos; any subset; and
    older_faces to have the faces embedded before a model upgrade counted) to an app's library; the
    settings now in force."""
    return _admin_call(app_id, "app/settings", changes)


def purge_deleted_apps() -> tuple[int, int]:
    """Ask the backend to delete the library of every deleted app still pending.

    Returns (faces removed, apps still pending). A row younger than the longest a call may still be
    in flight (FACEGATE_STALE_RESERVATION_SECONDS) stays after a success, so the next run deletes
    again whatever an enrolment accepted just before the app was deleted stored after this one.
    """
    removed = 0
    now = timezone.now()
    settled_before = now - timedelta(seconds=settings.FACEGATE_STALE_RESERVATION_SECONDS)
    for pending in LibraryPurge.objects.order_by("requested_at"):
        try:
            result = _admin_call(pending.application_id, "app/delete", {})
        except LibraryAdminError as exc:
            log.warning("library purge of app %s not done yet: %s", pending.application_id, exc)
            LibraryPurge.objects.filter(pk=pending.pk).update(
                attempts=F("attempts") + 1, last_error=str(exc)[:500], last_attempt_at=now)
            continue
        removed += int(result.get("face_num") or 0)
        log.info("library of deleted app %s removed (%s faces)", pending.application_id, result.get("face_num"))
        if pending.requested_at <= settled_before:
            pending.delete()
        else:
            LibraryPurge.objects.filter(pk=pending.pk).update(attempts=F("attempts") + 1, last_error="",
                                                             last_attempt_at=now)
    return removed, LibraryPurge.objects.count()


def purge_now(app_id: int) -> tuple[int, bool]:
    """Right after deleting an app: try its library removal now. (faces removed, whether the removal
    still waits for the backend, retried by Celery beat). Its outbox row may stay after a success
    (see purge_deleted_apps), so what tells a waiting removal is the error of its last attempt."""
    removed = purge_deleted_apps()[0]
    waiting = LibraryPurge.objects.filter(application_id=app_id).exclude(last_error="").exists()
    return removed, waiting
