"""Quota reserve/settle, orders and grants against the real database."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import quota
from billing.models import Charge, Order, ResourcePack
from billing.orders import create_order, grant_pack, pay_order
from gateway.services import create_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("buyer@example.com", "buyer@example.com", "pw-123456")


@pytest.fixture
def app(user):
    return create_application(user, "billapp")[0]


def _pack(app, calls, days, api="detect", used=0):
    pack = grant_pack(app, api, calls, days)
    if used:
        ResourcePack.objects.filter(pk=pack.pk).update(calls_used=used)
    return pack


def test_reserve_takes_the_pack_that_expires_first(app):
    late = _pack(app, 10, 300)
    early = _pack(app, 10, 5)
    charge = quota.reserve(app, "detect", "r1")
    assert charge.pack_id == early.pk and charge.status == Charge.Status.RESERVED
    early.refresh_from_db(), late.refresh_from_db()
    assert (early.calls_used, late.calls_used) == (1, 0)


def test_full_pack_is_skipped_then_next_one_used(app):
    early = _pack(app, 2, 5, used=2)
    late = _pack(app, 10, 300)
    assert quota.reserve(app, "detect", "r1").pack_id == late.pk
    early.refresh_from_db()
    assert early.calls_used == 2


def test_expired_pack_is_excluded(app):
    pack = _pack(app, 10, 1)
    ResourcePack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert quota.reserve(app, "detect", "r1") is None


def test_other_api_pack_is_not_used(app):
    _pack(app, 10, 10, api="compare")
    assert quota.reserve(app, "detect", "r1") is None


def test_nothing_left_returns_none_and_writes_no_rows(app):
    pack = _pack(app, 1, 10, used=1)
    assert quota.reserve(app, "detect", "r1") is None
    assert Charge.objects.count() == 0
    pack.refresh_from_db()
    assert pack.calls_used == 1


@pytest.mark.parametrize("code,status,used", [
    *[(code, Charge.Status.CHARGED, 1) for code in ("0", "4103", "4104", "4105")],
    *[(code, Charge.Status.RELEASED, 0) for code in ("5000", "4101", "4102", "")],
])
def test_settle_charges_or_releases_by_code(app, code, status, used):
    pack = _pack(app, 5, 10)
    charge = quota.settle(quota.reserve(app, "detect", "r1"), code)
    assert charge.status == status and charge.result_code == code
    pack.refresh_from_db()
    assert pack.calls_used == used


def test_settle_twice_releases_once(app):
    pack = _pack(app, 5, 10)
    charge = quota.reserve(app, "detect", "r1")
    quota.settle(charge, "5000")
    quota.settle(charge, "5000")
    pack.refresh_from_db()
    assert pack.calls_used == 0


def test_release_stale_releases_only_old_reservations(app):
    pack = _pack(app, 5, 10)
    old = quota.reserve(app, "detect", "old")
    fresh = quota.reserve(app, "detect", "fresh")
    done = quota.settle(quota.reserve(app, "detect", "done"), "0")
    Charge.objects.filter(pk__in=[old.pk, done.pk]).update(created_at=timezone.now() - timedelta(minutes=10))
    assert quota.release_stale(60) == 1
    statuses = dict(Charge.objects.values_list("request_id", "status"))
    assert statuses == {"old": "released", "fresh": "reserved", "done": "charged"}
    pack.refresh_from_db()
    assert pack.calls_used == 2
    # The fresh reservation is still open and settles normally afterwards.
    assert quota.settle(fresh, "0").status == "charged"


def test_usage_reports_remaining_and_used(app):
    _pack(app, 10, 10)
    for i in range(3):
        quota.settle(quota.reserve(app, "detect", f"u{i}"), "0" if i < 2 else "5000")
    report = quota.usage(app)
    assert report["detect"]["remaining"] == 8
    assert report["detect"]["used_today"] == 2 and report["detect"]["used_month"] == 2
    assert report["compare"] == {"remaining": 0, "used_today": 0, "used_month": 0, "packs": []}
    assert report["detect"]["packs"][0]["calls_left"] == 8


def test_order_lifecycle_creates_year_packs(app, user, settings):
    order = create_order(user, app, "compare", "100k", 3)
    assert order.status == Order.Status.CREATED
    assert order.amount == Decimal(str(settings.FACEGATE_PACK_TIERS["100k"][1])) * 3
    assert not ResourcePack.objects.exists()
    order = pay_order(order, user)
    assert order.status == Order.Status.ACTIVE and order.paid_by == user and order.paid_at
    packs = list(order.packs.all())
    assert len(packs) == 3 and all(p.calls_total == 100_000 for p in packs)
    assert abs((packs[0].expires_at - packs[0].starts_at) - timedelta(days=settings.FACEGATE_PACK_DAYS)) < timedelta(seconds=1)
    with pytest.raises(ValidationError):
        pay_order(order, user)  # paying twice creates no more packs
    assert ResourcePack.objects.count() == 3


@pytest.mark.parametrize("api,tier,qty", [("detect", "5k", 1), ("detect", "100k", 0), ("nope", "100k", 1)])
def test_bad_orders_rejected(app, user, api, tier, qty):
    with pytest.raises(ValidationError):
        create_order(user, app, api, tier, qty)


def test_grant_any_size(app, user):
    pack = grant_pack(app, "mask", 7, 3, granted_by=user)
    assert pack.calls_total == 7 and pack.source == "grant" and pack.granted_by == user
    with pytest.raises(ValidationError):
        grant_pack(app, "mask", 0, 3)


@pytest.mark.parametrize("name", ["abc", "a" * 16, "   ab   "])
def test_app_name_length_validated(user, name):
    with pytest.raises(ValidationError):
        create_application(user, name)
