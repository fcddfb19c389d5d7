"""Fixtures for gateway tests: a user, an app with its plain secret, and a signed-call helper."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from facegate.apis import public_path
from facegate.client import signed_headers


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner@example.com", "owner@example.com", "pw-123456")


@pytest.fixture
def app_and_secret(owner):
    from gateway.services import create_application
    return create_application(owner, "testapp")


@pytest.fixture
def call(client, app_and_secret) -> Callable[..., dict[str, Any]]:
    """Post a signed call through Django's test client; overrides let tests break one piece."""
    app, secret = app_and_secret

    def _call(api: str = "detect", body: bytes = b'{"imageContent": ""}', *, app_key: str | None = None,
              secret_: str | None = None, code: str | None = None, timestamp: str | None = None,
              drop: tuple[str, ...] = (), headers: dict | None = None, path: str | None = None) -> dict:
        key = app.app_key if app_key is None else app_key
        url = path or public_path(code or app.service_code_for(api), api)
        sent = signed_headers(key, secret if secret_ is None else secret_, url, body, timestamp)
        sent.update(headers or {})
        for name in drop:
            sent.pop(name, None)
        extra = {f"HTTP_{k.upper()}": v for k, v in sent.items() if k != "Content-Type"}
        response = client.post(url, data=body, content_type="application/json", **extra)
        assert response.status_code == 200, response.content
        assert response["X-Request-Id"]
        return json.loads(response.content)

    return _call
