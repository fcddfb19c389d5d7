"""Orders, resource packs and the charge ledger that metering writes."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from facegate.apis import API_CHOICES
from gateway.models import Application


class Order(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "Created"
        PAID = "paid", "Paid"
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    api = models.CharField(max_length=16, choices=API_CHOICES)
    tier = models.CharField(max_length=8)  # a key of settings.FACEGATE_PACK_TIERS
    quantity = models.PositiveIntegerField()
    calls_per_pack = models.BigIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    currency = models.CharField(max_length=8, default="CNY")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    payment_provider = models.CharField(max_length=100, blank=True, default="")
    payment_reference = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]


class PackQuerySet(models.QuerySet):
    def active(self, app_id: int, now: datetime, api: str | None = None) -> "PackQuerySet":
        """The app's packs (of one API, or all) that are valid at `now`: started, not yet expired.

        The one definition of a usable pack, for metering (billing.quota) and alerts (monitoring).
        """
        packs = self.filter(application_id=app_id, starts_at__lte=now, expires_at__gt=now)
        return packs if api is None else packs.filter(api=api)


class ResourcePack(models.Model):
    """A number of calls of one API for one app, valid until expires_at; unused calls lapse."""

    objects = PackQuerySet.as_manager()

    class Source(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        GRANT = "grant", "Admin grant"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="packs")
    api = models.CharField(max_length=16, choices=API_CHOICES)
    calls_total = models.BigIntegerField()
    calls_used = models.BigIntegerField(default=0)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="packs")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [models.Index(fields=["application", "api", "expires_at"])]
        constraints = [
            # The database itself refuses an oversold pack, whatever the code above it does.
            models.CheckConstraint(condition=Q(calls_used__gte=0) & Q(calls_used__lte=F("calls_total")),
                                   name="pack_used_within_total"),
        ]

    @property
    def calls_left(self) -> int:
        return self.calls_total - self.calls_used


class Charge(models.Model):
    """One metered call: reserved before forwarding, then settled (charged) or released."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        CHARGED = "charged", "Charged"
        RELEASED = "released", "Released"

    request_id = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="charges")
    api = models.CharField(max_length=16, choices=API_CHOICES)
    pack = models.ForeignKey(ResourcePack, on_delete=models.PROTECT, related_name="charges")
    units = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    result_code = models.CharField(max_length=8, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["application", "api", "status", "created_at"])]
