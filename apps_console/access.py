"""Who may see what: admins see every account's apps, a user only their own.

Every console view takes its objects through these helpers, so an object of another account is a 404
(not a 403: its existence is not revealed)."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from billing.models import Order
from gateway.models import Application
from monitoring.models import Alert


def visible_apps(user: AbstractBaseUser) -> QuerySet[Application]:
    apps = Application.objects.select_related("owner")
    return apps if user.is_staff else apps.filter(owner=user)


def get_app(user: AbstractBaseUser, app_id: int | str) -> Application:
    # A malformed id from a query string is a 404 like any id the user may not see, never a 500.
    if not str(app_id).isdigit():
        raise Http404("no such application")
    return get_object_or_404(visible_apps(user), pk=int(app_id))


def visible_orders(user: AbstractBaseUser) -> QuerySet[Order]:
    orders = Order.objects.select_related("application")
    return orders if user.is_staff else orders.filter(application__owner=user)


def visible_alerts(user: AbstractBaseUser) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("application", "rule")
    return alerts if user.is_staff else alerts.filter(application__owner=user)
