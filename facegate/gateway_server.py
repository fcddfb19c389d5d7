"""`facegate gateway`: the Django gateway on waitress, in several processes sharing one socket.

Why waitress (docs/DECISIONS.md, "Serving the gateway"): its I/O loop reads a request's headers
and whole body before a worker thread sees it, so slow or idle clients cost a socket, never a
thread; worker threads only wait on the backend and the database. The parent binds the socket
once (a port in use fails here, loudly), then supervises `--workers` processes that all accept on
it and restarts one that crashes.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys

from facegate import config
from facegate.supervise import Supervisor, say

# Seconds a connection may stay silent (mid-headers, mid-body or idle between requests) before
# it is closed.
CHANNEL_TIMEOUT_S = 20
# Open connections per process before it stops accepting; select() would cap this at 1024 fds,
# so the loop uses poll().
CONNECTION_LIMIT = 2000
MAX_HEADER_BYTES = 64 * 1024


def default_workers() -> int:
    return max(2, min(4, os.cpu_count() or 2))


def default_threads() -> int:
    # Threads mostly wait on the backend (10-100 ms a call) and the database, not on the CPU.
    return config.env_int("FACEGATE_GATEWAY_THREADS", 8)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def serve_worker(fd: int, threads: int) -> None:
    """One gateway process: waitress on the inherited listening socket."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from waitress import serve
    application = get_wsgi_application()
    listener = socket.socket(fileno=fd)
    proxy = os.environ.get("FACEGATE_TRUSTED_PROXY", "")
    # Behind a TLS proxy at that address, its X-Forwarded-For/-Proto are believed (client address,
    # https); from anyone else they are dropped.
    proxy_options = {"trusted_proxy": proxy, "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}}
    serve(application, sockets=[listener], threads=threads, ident="facegate",
          channel_timeout=CHANNEL_TIMEOUT_S, cleanup_interval=5, connection_limit=CONNECTION_LIMIT,
          asyncore_use_poll=True, max_request_header_size=MAX_HEADER_BYTES,
          # Bodies up to the gateway's own limit reach Django, which answers 4103 in the wire format;
          # far larger ones are refused by waitress (413) before they are read. Bodies over 512 kB
          # are buffered in a temporary file, not in memory.
          max_request_body_size=2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
          **(proxy_options if proxy else {}))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="facegate gateway", description="run the gateway (Django on waitress)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=default_workers(), help="processes sharing the port")
    p.add_argument("--threads", type=int, default=default_threads(), help="request threads per process")
    p.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)  # a worker: the inherited socket
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.fd is not None:
        serve_worker(args.fd, args.threads)
        return 0
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        say(f"gateway cannot listen on {args.host}:{args.port}: {exc.strerror}")
        return 1
    fd = sock.fileno()
    with Supervisor("stopping the gateway workers") as supervisor:
        for n in range(1, args.workers + 1):
            supervisor.start(f"gateway worker {n}", [sys.executable, "-m", "facegate.gateway_server",
                                                     "--fd", str(fd), "--threads", str(args.threads)],
                             pass_fds=(fd,))
        supervisor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
