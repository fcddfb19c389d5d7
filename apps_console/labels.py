"""Translatable labels for values whose model choices are plain English (models belong to other rooms)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ALERT_KINDS = {
    "pack_low": _("Pack under threshold (percent of calls left)"),
    "pack_expiring": _("Pack expiring within threshold days"),
    "error_rate": _("Error rate over threshold (percent) in 5 minutes"),
    "latency_p95": _("p95 latency over threshold ms in 5 minutes"),
    "quota_exhausted": _("Quota exhausted"),
}

ORDER_STATUSES = {
    "created": _("Created"),
    "paid": _("Paid"),
    "active": _("Active"),
    "cancelled": _("Cancelled"),
}
