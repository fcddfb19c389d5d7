"""Forwarding a face call to the backend: pooled session, timeout, backends tried in turn."""
from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field

import requests
from django.conf import settings

from facegate import errors
from facegate.apis import backend_path
from gateway.wire import encode

log = logging.getLogger("facegate.forwarding")

APP_HEADER = "X-Facegate-App"

_session: requests.Session | None = None
_session_pid = 0
_turn = itertools.count()


@dataclass(frozen=True)
class BackendReply:
    code: str
    content: bytes  # the wire reply, passed to the client unchanged
    payload: dict = field(default_factory=dict, compare=False)  # the same reply, parsed


def session() -> requests.Session:
    """One pooled session per process (recreated after a fork: sockets must not be shared)."""
    global _session, _session_pid
    if _session is None or _session_pid != os.getpid():
        _session = requests.Session()
        # The backends are named by FACEGATE_BACKEND_URLS, never through a proxy or ~/.netrc: without
        # this, requests reads the environment and stats ~/.netrc on every call.
        _session.trust_env = False
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=16, max_retries=0)
        _session.mount("http://", adapter)
        _session.mount("https://", adapter)
        _session_pid = os.getpid()
    return _session


def _internal_error(request_id: str, why: str) -> BackendReply:
    return BackendReply(errors.INTERNAL, encode(errors.error(errors.INTERNAL, f"{why} (request {request_id})")))


def forward(api: str, body: bytes, request_id: str, op: str = "", app_id: int | None = None) -> BackendReply:
    """POST the raw body to <backend>/v1/{api}[/{op}] for the calling app; on connection failure
    try the next backend."""
    urls = list(settings.FACEGATE_BACKEND_URLS)
    if not urls:
        return _internal_error(request_id, "no face backend configured")
    start = next(_turn) % len(urls)  # round-robin start spreads load over the backends
    headers = {"Content-Type": "application/json", "X-Request-Id": request_id,
               "X-Facegate-Token": settings.FACEGATE_BACKEND_TOKEN}
    if app_id is not None:
        headers[APP_HEADER] = str(app_id)  # the backend scopes stored faces to the app
    for i in range(len(urls)):
        url = urls[(start + i) % len(urls)].rstrip("/") + backend_path(api, op)
        try:
            response = session().post(url, data=body, headers=headers, timeout=settings.FACEGATE_BACKEND_TIMEOUT)
        except requests.ConnectionError as exc:  # includes ConnectTimeout: nothing was processed
            log.warning("backend %s unreachable for %s: %s", url, request_id, exc)
            continue
        except requests.RequestException as exc:  # read timeout etc.: the backend may have worked on it
            log.error("backend %s failed for %s: %s", url, request_id, exc)
            return _internal_error(request_id, "face backend did not answer in time")
        return _check_reply(response, url, request_id)
    return _internal_error(request_id, "no face backend reachable")


def _check_reply(response: requests.Response, url: str, request_id: str) -> BackendReply:
    try:
        data = response.json() if response.status_code == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        log.error("backend %s gave an invalid reply for %s: HTTP %s", url, request_id, response.status_code)
        return _internal_error(request_id, "invalid reply from the face backend")
    return BackendReply(data["code"], response.content, data)
