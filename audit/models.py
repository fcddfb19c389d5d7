"""The audit log: who changed what, kept for the owners and admins to read.

A leaf of the model graph: the services of the other rooms write to it; it knows only users and apps
by id and name (an event outlives a deleted app or user)."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        APP_CREATED = "app_created", "App created"
        SECRET_ROTATED = "secret_rotated", "Secret rotated"
        APP_DISABLED = "app_disabled", "App disabled"
        APP_ENABLED = "app_enabled", "App enabled"
        APP_DELETED = "app_deleted", "App deleted"
        LIBRARY_SETTINGS = "library_settings", "Library settings changed"
        ORDER_PAID = "order_paid", "Order paid"
        ORDER_CANCELLED = "order_cancelled", "Order cancelled"
        PACK_GRANTED = "pack_granted", "Pack granted"
        RULE_CHANGED = "rule_changed", "Alert rule changed"
        PASSWORD_CHANGED = "password_changed", "Password changed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # Null actor: the command line or a system task did it.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, default="")
    # Whose data it touched: the app's owner reads the event in the console.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    application_id = models.BigIntegerField(null=True, blank=True)
    application_name = models.CharField(max_length=64, blank=True, default="")
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["owner", "at"])]
