"""Pluggable payment step for orders. settings.FACEGATE_PAYMENT_PROVIDER names the class to use."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PaymentResult:
    ok: bool
    reference: str = ""
    message: str = ""


class PaymentProvider:
    """Interface: charge the order's amount; return whether it was paid and a reference."""

    name = "base"

    def pay(self, order, payer) -> PaymentResult:  # pragma: no cover - interface
        raise NotImplementedError


class InstantPayment(PaymentProvider):
    """The default: marks the order paid at once (self-hosted installs bill outside facegate)."""

    name = "instant"

    def pay(self, order, payer) -> PaymentResult:
        return PaymentResult(ok=True, reference=f"instant-{uuid.uuid4().hex[:16]}")


def get_provider() -> PaymentProvider:
    return import_string(settings.FACEGATE_PAYMENT_PROVIDER)()
