"""A console account with something on every page: two apps (Chinese names, as a user would type
them), packs running low and expiring, orders in every status, alerts of every kind (webhook delivered
and failed), rule changes and audit events. Built through the real services; alerts whose checks need
minutes of traffic are stored with the values those checks record.

Run inside a test's database (seed(user)) or against a running stack's data dir:
    FACEGATE_DATA_DIR=... python -m tests.console.seed EMAIL   (prints the ids as JSON)."""
from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any


def seed(user: Any) -> dict[str, Any]:
    from django.utils import timezone

    from billing import orders
    from billing.models import Order, ResourcePack
    from gateway import services
    from monitoring import alerts as alert_service
    from monitoring.models import Alert

    app, _ = services.create_application(user, "门禁摄像头", "前门的考勤机", actor=user)
    other, _ = services.create_application(user, "前台一号", actor=user)
    services.rotate_secret(other, actor=user)
    services.set_status(other, False, actor=user)
    services.set_status(other, True, actor=user)
    low = orders.grant_pack(app, "detect", calls=12_000, days=365)
    ResourcePack.objects.filter(pk=low.pk).update(calls_used=11_500)  # 4% left: under the 10% rule
    orders.grant_pack(app, "liveness", calls=500, days=3)  # expires within the 7-day rule
    paid = orders.pay_order(orders.create_order(user, app, "compare", "100k", 2), user)
    cancelled = orders.cancel_order(orders.create_order(user, app, "mask", "100k", 1), user)
    unpaid = orders.create_order(user, app, "attributes", "100k", 3)
    rules = {r.kind: r for r in alert_service.rules_for(app)}
    alert_service.update_rule(rules["latency_p95"], threshold=800, actor=user)
    alert_service.evaluate(app)  # pack_low and pack_expiring, raised by the real checks
    now = timezone.now()
    stored = [
        ("error_rate", "detect", {"error_rate_pct": 35.0, "errors": 7, "calls": 20, "threshold": 5.0}, "HTTP 204"),
        ("latency_p95", "compare", {"p95_ms": 1234.5, "calls": 1500, "threshold": 800.0}, "error: ConnectTimeout"),
        ("quota_exhausted", "mask", {"refused_calls": 3, "since": (now - timedelta(minutes=5)).isoformat()}, ""),
    ]
    for kind, api, values, webhook in stored:
        Alert.objects.create(rule=rules[kind], application=app, kind=kind, api=api, message=f"{api}: {kind}",
                             values=values, raised_at=now, webhook_status=webhook)
    return {"app": app.pk, "app_key": app.app_key, "other_app": other.pk,
            "orders": {"active": paid.pk, "cancelled": cancelled.pk, "created": unpaid.pk},
            "statuses": sorted(Order.objects.filter(application=app).values_list("status", flat=True))}


def console_pages(ids: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of every console page, with the seeded objects."""
    app, orders = ids["app"], ids["orders"]
    return [
        ("apps", "/console/apps/"),
        ("app-detail", f"/console/apps/{app}/"),
        ("buy", f"/console/buy/?app={app}"),
        ("orders", "/console/orders/"),
        ("order-unpaid", f"/console/orders/{orders['created']}/"),
        ("order-active", f"/console/orders/{orders['active']}/"),
        ("order-cancelled", f"/console/orders/{orders['cancelled']}/"),
        ("monitoring", f"/console/monitoring/?app={app}"),
        ("alerts", "/console/alerts/?show=all"),
        ("alert-rules", f"/console/apps/{app}/alert-rules/"),
        ("tryit", f"/console/try/?app={app}"),
        ("library", f"/console/library/?app={app}&group=staff&user=li_wei"),
        ("password", "/console/account/password/"),
        ("activity", "/console/account/activity/"),
        ("not-found", "/console/apps/999999/"),
    ]


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    print(json.dumps(seed(get_user_model().objects.get(username=sys.argv[1]))))
