"""Buying packs: choose app, API, tier and count → order (confirm page with the amount) → pay
(the default payment step, billing.orders.pay_order) or cancel → the order with the packs it activated.
Every POST redirects to the order page (post/redirect/get)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps_console.access import visible_apps, visible_orders
from apps_console.forms import BuyForm
from apps_console.overview import app_overview
from billing import orders
from billing.models import Order


@login_required
def buy(request: HttpRequest) -> HttpResponse:
    apps = visible_apps(request.user)
    initial = {"application": request.GET.get("app"), "api": request.GET.get("api", "detect")}
    form = BuyForm(request.POST or None, apps=apps, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = orders.create_order(request.user, data["application"], data["api"], data["tier"],
                                        data["quantity"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("console:order-detail", order_id=order.pk)
    rows = [(app, app_overview(app)) for app in apps[:20]]
    return render(request, "console/buy.html", {"form": form, "rows": rows},
                  status=400 if request.method == "POST" else 200)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    return render(request, "console/order_list.html", {"orders": visible_orders(request.user)[:200]})


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(visible_orders(request.user), pk=order_id)
    return render(request, "console/order_detail.html", {"order": order, "packs": order.packs.all()})


def _settle_unpaid(request: HttpRequest, order_id: int, action: Callable[[Order, Any], Order], done: str,
                   refused: str) -> HttpResponse:
    """Pay or cancel an unpaid order, say how it went, and redirect to the order (post/redirect/get)."""
    order = get_object_or_404(visible_orders(request.user), pk=order_id)
    if order.status == order.Status.CREATED:
        try:
            action(order, request.user)
        except ValidationError:
            # A declined payment, or a double click that lost the race, leaves the order as it was.
            messages.error(request, refused)
        else:
            messages.success(request, done)
    return redirect("console:order-detail", order_id=order.pk)


@login_required
@require_POST
def order_pay(request: HttpRequest, order_id: int) -> HttpResponse:
    return _settle_unpaid(request, order_id, orders.pay_order, _("Paid: the packs are active now."),
                          _("The payment did not go through; the order is unchanged. Try again."))


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    return _settle_unpaid(request, order_id, orders.cancel_order, _("The order is cancelled."),
                          _("This order can no longer be cancelled."))
