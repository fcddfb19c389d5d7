"""Template filters and tags of the console: translated labels, numbers with thousands separators, and
the open-alert count of the navigation."""
from __future__ import annotations

from typing import Any

from django import template

from apps_console import labels
from apps_console.access import visible_alerts

register = template.Library()


@register.filter
def alert_kind_label(kind: str) -> str:
    return str(labels.ALERT_KINDS.get(kind, kind))


@register.filter
def alert_text(alert: Any) -> str:
    return labels.alert_text(alert.kind, alert.api, alert.values, alert.message)


@register.filter
def order_status_label(status: str) -> str:
    return str(labels.ORDER_STATUSES.get(status, status))


@register.filter
def api_title(name: str) -> str:
    return labels.api_title(name)


@register.filter
def code_label(code: str) -> str:
    return labels.code_label(code)


@register.filter
def thousands(value: Any) -> str:
    return labels.thousands(value)


@register.filter
def money(value: Any) -> str:
    return labels.money(value)


@register.simple_tag
def open_alert_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return visible_alerts(user).filter(acknowledged_at__isnull=True).count()


@register.filter
def audit_action(action: str) -> str:
    return str(labels.AUDIT_ACTIONS.get(action, action))


@register.filter
def audit_text(event: Any) -> str:
    return labels.audit_text(event.action, event.details)


@register.inclusion_tag("console/_webhook.html")
def webhook_badge(status: str) -> dict[str, str]:
    words, kind = labels.webhook_status(status)
    return {"words": words, "kind": kind}
