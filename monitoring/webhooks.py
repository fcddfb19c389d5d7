"""Alert webhooks: POST JSON to a URL the app's owner chose — never into our own network.

A webhook URL is attacker-controlled input (any console user sets one), so the worker would be a
proxy into the private network if it simply fetched it. Every hop (the URL and each redirect) is
resolved, every address it resolves to must be public (not loopback, private, link-local, reserved,
multicast or unspecified) unless FACEGATE_WEBHOOK_ALLOWED_HOSTS lists the host or its network, and
the connection goes to the address that was checked (no second lookup a DNS rebinding could change).
The whole delivery, redirects included, is bounded by FACEGATE_WEBHOOK_TIMEOUT seconds.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(Exception):
    """The URL points at an address webhooks may not reach."""


class WebhookError(Exception):
    """Delivery failed (name not resolved, connection, timeout, too many redirects)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query
    ip: str


def _allowed_entries() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names, networks = set(), []
    for entry in getattr(settings, "FACEGATE_WEBHOOK_ALLOWED_HOSTS", []):
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.lower())
    return names, networks


def _refusal(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for attribute, word in (("is_loopback", "loopback"), ("is_link_local", "link-local"),
                            ("is_private", "private"), ("is_multicast", "multicast"),
                            ("is_reserved", "reserved"), ("is_unspecified", "unspecified")):
        if getattr(address, attribute):
            return word
    return None if address.is_global else "not public"


def _parse(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("only http and https URLs with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused("bad port") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname.lower(), port, path


def _check(host: str, addresses: list[str]) -> None:
    names, networks = _allowed_entries()
    if host in names:
        return
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = _refusal(address)
        if reason and not any(address in network for network in networks):
            raise WebhookRefused(f"{host} is {reason} ({address})" if text != host else f"{host} is {reason}")


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve(url: str) -> Target:
    """The URL's target with its checked address; WebhookRefused / WebhookError otherwise."""
    scheme, host, port, path = _parse(url)
    literal = _literal(host)
    if literal:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise WebhookError("cannot resolve host") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    _check(host, addresses)  # every address: a name with one public and one private record is refused
    return Target(scheme, host, port, path, addresses[0])


def validate_url(url: str) -> None:
    """For saving a rule: refuse URLs that resolve to refused addresses now. A name that does not
    resolve yet is accepted (checked again at delivery)."""
    try:
        resolve(url)
    except WebhookError:
        pass


def _request(target: Target, method: str, body: bytes | None, timeout: float) -> urllib3.BaseHTTPResponse:
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    options: dict[str, Any] = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False,
                               "maxsize": 1}
    if target.scheme == "https":
        # Connect to the checked address, but verify the certificate for the host name.
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.ip, target.port, server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", **options)
    else:
        pool = urllib3.HTTPConnectionPool(target.ip, target.port, **options)
    headers = {"Host": host_header, "User-Agent": "facegate-webhook"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = pool.urlopen(method, target.path, body=body, headers=headers, redirect=False,
                                assert_same_host=False, preload_content=False)
    except urllib3.exceptions.NewConnectionError:  # a subclass of urllib3's TimeoutError: first
        raise WebhookError("ConnectionError") from None
    except urllib3.exceptions.TimeoutError:
        raise WebhookError("Timeout") from None
    except urllib3.exceptions.HTTPError:
        raise WebhookError("ConnectionError") from None
    finally:
        pool.close()
    response.release_conn()  # the reply's body is not needed: never read it
    return response


def deliver(url: str, payload: dict[str, Any]) -> str:
    """POST payload as JSON; the outcome as a short status ("HTTP 204", "refused: ...",
    "error: Timeout"). Never raises."""
    timeout = float(getattr(settings, "FACEGATE_WEBHOOK_TIMEOUT", 5.0))
    deadline = time.monotonic() + timeout
    method, body = "POST", json.dumps(payload).encode()
    try:
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise WebhookError("Timeout")
            target = resolve(url)
            response = _request(target, method, body, left)
            location = response.headers.get("Location")
            if response.status not in REDIRECTS or not location:
                return f"HTTP {response.status}"
            url = urljoin(url, location)
            if response.status in (301, 302, 303):
                method, body = "GET", None
        raise WebhookError("too many redirects")
    except WebhookRefused as exc:
        return f"refused: {exc}"
    except WebhookError as exc:
        return f"error: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bad URL or anything else must not break recording
        return f"error: {type(exc).__name__}"
