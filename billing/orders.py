"""Orders (created → paid → active) and admin grants; both end in resource packs."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record
from billing.models import Order, ResourcePack
from billing.payments import get_provider
from facegate.apis import APIS
from gateway.models import Application

MAX_QUANTITY = 1000


def _check_api(api: str) -> None:
    if api not in APIS:
        raise ValidationError(f"Unknown API {api!r}; choose one of {', '.join(APIS)}.", code="api")


def create_order(buyer, app: Application, api: str, tier: str, quantity: int) -> Order:
    """A priced order for `quantity` packs of one tier; not paid yet."""
    _check_api(api)
    tiers = settings.FACEGATE_PACK_TIERS
    if tier not in tiers:
        raise ValidationError(f"Unknown tier {tier!r}; choose one of {', '.join(tiers)}.", code="tier")
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise ValidationError("Quantity must be a whole number.", code="quantity") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError(f"Quantity must be between 1 and {MAX_QUANTITY}.", code="quantity")
    calls, price = tiers[tier]
    unit_price = Decimal(str(price)).quantize(Decimal("0.01"))
    return Order.objects.create(
        application=app, buyer=buyer, api=api, tier=tier, quantity=quantity, calls_per_pack=calls,
        unit_price=unit_price, amount=unit_price * quantity, currency=settings.FACEGATE_CURRENCY,
    )


def pay_order(order: Order, payer) -> Order:
    """Run the payment provider; on success mark paid and activate one pack per quantity."""
    with transaction.atomic():
        # Lock the order so a double click cannot pay (and create packs) twice.
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.CREATED:
            raise ValidationError(f"Order {order.pk} is {order.status}, not payable.", code="status")
        provider = get_provider()
        result = provider.pay(order, payer)
        if not result.ok:
            raise ValidationError(result.message or "Payment failed.", code="payment")
        now = timezone.now()
        order.status = Order.Status.PAID
        order.paid_at = now
        order.paid_by = payer
        order.payment_provider = provider.name
        order.payment_reference = result.reference
        order.save()
        expires = now + timedelta(days=settings.FACEGATE_PACK_DAYS)
        ResourcePack.objects.bulk_create([
            ResourcePack(application=order.application, api=order.api, calls_total=order.calls_per_pack,
                         starts_at=now, expires_at=expires, source=ResourcePack.Source.PURCHASE, order=order)
            for _ in range(order.quantity)
        ])
        order.status = Order.Status.ACTIVE
        order.save(update_fields=["status"])
        record(AuditEvent.Action.ORDER_PAID, payer, order.application, order=order.pk, amount=str(order.amount),
               currency=order.currency, api=order.api, packs=order.quantity, calls_per_pack=order.calls_per_pack)
    return order


def cancel_order(order: Order, actor=None) -> Order:
    """Cancel an unpaid order; a paid (or already cancelled) order cannot be cancelled."""
    with transaction.atomic():
        # Locked like pay_order, so a cancel racing a payment leaves exactly one of them done.
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.CREATED:
            raise ValidationError(f"Order {order.pk} is {order.status}, not cancellable.", code="status")
        order.status = Order.Status.CANCELLED
        order.save(update_fields=["status"])
        record(AuditEvent.Action.ORDER_CANCELLED, actor, order.application, order=order.pk,
               amount=str(order.amount), currency=order.currency)
    return order


def grant_pack(app: Application, api: str, calls: int, days: int, granted_by=None) -> ResourcePack:
    """An admin grant of any size and duration, valid from now."""
    _check_api(api)
    if int(calls) < 1:
        raise ValidationError("Calls must be at least 1.", code="calls")
    if int(days) < 1:
        raise ValidationError("Days must be at least 1.", code="days")
    now = timezone.now()
    with transaction.atomic():
        pack = ResourcePack.objects.create(
            application=app, api=api, calls_total=int(calls), starts_at=now,
            expires_at=now + timedelta(days=int(days)), source=ResourcePack.Source.GRANT, granted_by=granted_by,
        )
        record(AuditEvent.Action.PACK_GRANTED, granted_by, app, api=api, calls=int(calls), days=int(days))
    return pack
