"""Template filters of the console: translated labels for alert kinds and order statuses."""
from __future__ import annotations

from django import template

from apps_console.labels import ALERT_KINDS, ORDER_STATUSES

register = template.Library()


@register.filter
def alert_kind_label(kind: str) -> str:
    return str(ALERT_KINDS.get(kind, kind))


@register.filter
def order_status_label(status: str) -> str:
    return str(ORDER_STATUSES.get(status, status))
