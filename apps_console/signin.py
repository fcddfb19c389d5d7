"""Sign-in throttling by account and by address.

MAX failures of one account (or ADDRESS_MAX from one address) within WINDOW lock it for the rest of
LOCK, counted from the failure that reached the limit. While locked, the password is not even checked
(the right one is refused too), and refused attempts are not recorded, so the lock ends on time."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps_console.models import SignInFailure


def _limits() -> tuple[int, int, timedelta, timedelta]:
    return (settings.FACEGATE_SIGNIN_MAX_FAILURES, settings.FACEGATE_SIGNIN_ADDRESS_MAX_FAILURES,
            timedelta(seconds=settings.FACEGATE_SIGNIN_WINDOW_S), timedelta(seconds=settings.FACEGATE_SIGNIN_LOCK_S))


def _keys(account: str, address: str) -> list[tuple[str, int]]:
    account_max, address_max, _window, _lock = _limits()
    keys = [("account:" + account.strip().lower()[:180], account_max)]
    if address:
        keys.append(("address:" + address[:180], address_max))
    return keys


def locked_until(account: str, address: str, now: datetime | None = None) -> datetime | None:
    """When the lock on this account or address ends; None when sign-in may be tried."""
    now = now or timezone.now()
    _a, _b, window, lock = _limits()
    ends = []
    for key, limit in _keys(account, address):
        recent = list(SignInFailure.objects.filter(key=key, at__gt=now - window)
                      .order_by("-at").values_list("at", flat=True)[:limit])
        if len(recent) >= limit and recent[0] + lock > now:
            ends.append(recent[0] + lock)
    return max(ends) if ends else None


def record_failure(account: str, address: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    _a, _b, window, lock = _limits()
    SignInFailure.objects.filter(at__lt=now - max(window, lock)).delete()
    SignInFailure.objects.bulk_create([SignInFailure(key=key, at=now) for key, _limit in _keys(account, address)])


def record_success(account: str) -> None:
    """A good sign-in clears the account's failures (not the address's: one good account must not
    reset an address that is guessing at others)."""
    SignInFailure.objects.filter(key=_keys(account, "")[0][0]).delete()
