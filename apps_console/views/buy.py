"""Buying packs: choose app, API, tier and count → order (confirm page with the amount) → pay
(the default payment step, billing.orders.pay_order) → the order with the packs it activated."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps_console.access import visible_apps, visible_orders
from apps_console.forms import BuyForm
from billing import orders, quota


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
    usage = [(app, quota.usage(app)) for app in apps[:20]]
    return render(request, "console/buy.html", {"form": form, "usage": usage},
                  status=400 if request.method == "POST" else 200)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    return render(request, "console/order_list.html", {"orders": visible_orders(request.user)[:200]})


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(visible_orders(request.user), pk=order_id)
    return render(request, "console/order_detail.html", {"order": order, "packs": order.packs.all()})


@login_required
@require_POST
def order_pay(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(visible_orders(request.user), pk=order_id)
    if order.status == order.Status.CREATED:
        try:
            orders.pay_order(order, request.user)
        except ValidationError as exc:
            # A declined payment (or a double click that lost the race) leaves the order as it was.
            messages.error(request, " ".join(exc.messages))
    return redirect("console:order-detail", order_id=order.pk)
