"""The AppSecret is shown once, after a redirect: the create / rotate POST leaves a one-time token in
the user's session and redirects to the app page with it; the first GET that brings the token takes it
(popped), so a reload or a shared link shows nothing. The session holds only the app id and what
happened, never the secret: the page decrypts the app's current secret when it takes the token."""
from __future__ import annotations

import secrets

from django.http import HttpRequest

from gateway.models import Application

SESSION_KEY = "console-secret-reveals"
MAX_PENDING = 5  # a user opening many tabs keeps the last few; older tokens simply expire


def remember(request: HttpRequest, app: Application, notice: str) -> str:
    """A fresh token that reveals `app`'s secret once; notice is "created" or "rotated"."""
    token = secrets.token_urlsafe(16)
    pending = dict(request.session.get(SESSION_KEY, {}))
    pending[token] = {"app": app.pk, "notice": notice}
    request.session[SESSION_KEY] = dict(list(pending.items())[-MAX_PENDING:])
    return token


def take(request: HttpRequest, app: Application, token: str) -> str | None:
    """The notice for a pending token of this app, removing it; None when there is none."""
    pending = dict(request.session.get(SESSION_KEY, {}))
    entry = pending.pop(token, None) if token else None
    if entry is None:
        return None
    request.session[SESSION_KEY] = pending
    return entry["notice"] if entry["app"] == app.pk else None
