"""Reading the audit log: admins read every event, a user the events on their own data or by them."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from audit.models import AuditEvent


def events_for(user: object, limit: int = 300) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor")
    if not getattr(user, "is_staff", False):
        events = events.filter(Q(owner=user) | Q(actor=user))
    return events[:limit]
