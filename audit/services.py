"""Writing audit events. Services call record() right after the change they make."""
from __future__ import annotations

from typing import Any

from audit.models import AuditEvent


def record(action: str, actor: Any = None, app: Any = None, owner: Any = None, **details: Any) -> AuditEvent:
    """One event; actor None means the command line (or a task). owner defaults to the app's owner."""
    actor_pk = getattr(actor, "pk", None)
    owner = owner if owner is not None else getattr(app, "owner", None)
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor_pk else None,
        actor_name=actor.get_username() if actor_pk else "",
        owner=owner if getattr(owner, "pk", None) else None,
        application_id=getattr(app, "pk", None),
        application_name=getattr(app, "name", "") or "",
        details={k: v for k, v in details.items() if v is not None},
    )
