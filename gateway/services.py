"""Application lifecycle: creation, secret rotation, enable/disable, deletion. The console, CLI and admin call these."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record
from facegate.apis import API_NAMES
from gateway.models import (
    APP_NAME_MAX, APP_NAME_MIN, Application, LibraryPurge, ServiceCode, new_app_key, new_service_code,
)


def validate_app_name(name: str) -> str:
    """The cleaned name, or ValidationError with a message a user can act on."""
    cleaned = (name or "").strip()
    if not APP_NAME_MIN <= len(cleaned) <= APP_NAME_MAX:
        raise ValidationError(
            f"Application name must be {APP_NAME_MIN}–{APP_NAME_MAX} characters (got {len(cleaned)}).",
            code="name_length",
        )
    return cleaned


def create_application(owner, name: str, description: str = "", actor=None) -> tuple[Application, str]:
    """Create an app with a fresh AppKey, AppSecret and one service code per API.

    Returns the app and the plain AppSecret, which is shown once and stored only encrypted.
    actor: who did it, for the audit log (None: the command line).
    """
    cleaned = validate_app_name(name)
    # Keys are 128-bit random; a collision is practically impossible but retried rather than 500.
    for _attempt in range(3):
        try:
            with transaction.atomic():
                app = Application(owner=owner, name=cleaned, description=description or "", app_key=new_app_key())
                secret = app.set_new_secret()
                app.save()
                ServiceCode.objects.bulk_create(
                    [ServiceCode(application=app, api=api, code=new_service_code()) for api in API_NAMES]
                )
                record(AuditEvent.Action.APP_CREATED, actor, app)
                return app, secret
        except IntegrityError:
            continue
    raise RuntimeError("could not generate unique application keys")


def rotate_secret(app: Application, actor=None) -> str:
    """Replace the AppSecret; the old one stops working at once. Returns the new plain secret."""
    if app.status == Application.Status.DELETED:
        raise ValidationError("A deleted application keeps no secret.", code="deleted")
    secret = app.set_new_secret()
    app.secret_rotated_at = timezone.now()
    with transaction.atomic():
        app.save(update_fields=["app_secret_encrypted", "secret_rotated_at"])
        record(AuditEvent.Action.SECRET_ROTATED, actor, app)
    return secret


def set_status(app: Application, active: bool, actor=None) -> Application:
    """Enable or disable an app; disabled apps get 4002 on every call."""
    if app.status == Application.Status.DELETED:
        raise ValidationError("A deleted application cannot be enabled or disabled.", code="deleted")
    status = Application.Status.ACTIVE if active else Application.Status.DISABLED
    if app.status == status:
        return app
    app.status = status
    with transaction.atomic():
        app.save(update_fields=["status"])
        record(AuditEvent.Action.APP_ENABLED if active else AuditEvent.Action.APP_DISABLED, actor, app)
    return app


def delete_application(app: Application, actor=None) -> Application:
    """Delete an app for good: every call gets 4002 from now on, and its face library is removed.

    The row stays (orders, packs and the ledger refer to it). The library lives on the face backend,
    which may be down right now: a LibraryPurge row, written in the same transaction, stays until
    the backend confirms (gateway.library_admin.purge_deleted_apps, retried by Celery beat).
    """
    if app.status == Application.Status.DELETED:
        return app
    with transaction.atomic():
        app.status = Application.Status.DELETED
        app.save(update_fields=["status"])
        LibraryPurge.objects.get_or_create(application=app)
        record(AuditEvent.Action.APP_DELETED, actor, app)
    return app
