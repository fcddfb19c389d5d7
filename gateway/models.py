"""Applications, their key pairs and service codes, and the replay cache of seen signatures."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models

from facegate.apis import API_CHOICES, API_NAMES
from gateway import secrets_box


# Application names: the one definition, used by the model, the lifecycle service and the console form.
APP_NAME_MIN, APP_NAME_MAX = 4, 15


class Application(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"
        # Permanent: its keys never work again and its face library is removed (LibraryPurge). The row
        # stays, because orders, packs and the ledger refer to it.
        DELETED = "deleted", "Deleted"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    name = models.CharField(max_length=APP_NAME_MAX,
                            validators=[MinLengthValidator(APP_NAME_MIN), MaxLengthValidator(APP_NAME_MAX)])
    description = models.TextField(blank=True, default="")
    app_key = models.CharField(max_length=32, unique=True, editable=False)
    # Fernet token of the AppSecret (gateway.secrets_box): a database leak alone yields no usable secret.
    app_secret_encrypted = models.TextField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    rate_limit_per_second = models.PositiveIntegerField(default=0, help_text="0 = the site default")
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.app_key})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def app_secret(self) -> str:
        return secrets_box.decrypt(self.app_secret_encrypted)

    def set_new_secret(self) -> str:
        """Generate a new AppSecret, store it encrypted and return the plain value (shown once)."""
        secret = secrets.token_hex(16)
        self.app_secret_encrypted = secrets_box.encrypt(secret)
        return secret

    def service_code_for(self, api: str) -> str:
        return self.service_codes.get(api=api).code


class ServiceCode(models.Model):
    """The system-generated code in the URL path that binds a call to one app and one API."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="service_codes")
    api = models.CharField(max_length=16, choices=API_CHOICES)
    code = models.CharField(max_length=32, unique=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "api"], name="one_service_code_per_api")]

    def __str__(self) -> str:
        return f"{self.api}:{self.code}"


class SeenSign(models.Model):
    """Signatures accepted within the timestamp window; the unique index rejects replays."""

    sign = models.CharField(max_length=32, unique=True)
    seen_at = models.DateTimeField(db_index=True)


def new_app_key() -> str:
    return secrets.token_hex(16)


def new_service_code() -> str:
    return secrets.token_hex(16)


__all__ = ["API_NAMES", "Application", "SeenSign", "ServiceCode", "new_app_key", "new_service_code"]


class RateCounter(models.Model):
    """Per-app request counter of the current second; the DB-backed rate limit without Redis (one row per app)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="rate_counter")
    second = models.BigIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)


class LibraryPurge(models.Model):
    """Outbox: a deleted app whose face library the backend has not confirmed removing yet
    (gateway.library_admin.purge_deleted_apps retries it every housekeeping period)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="library_purge")
    requested_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
