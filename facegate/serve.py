"""`facegate serve`: the whole stack in the foreground — face backend, gateway, Celery worker with beat.

Runs migrations and releases stale quota reservations first, then supervises the children: one that
crashes is restarted with backoff (the gateway answers 5000, uncharged, while the backend is away);
Ctrl-C or SIGTERM stops them all.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import urllib.request
from pathlib import Path

from facegate.gateway_server import default_threads, default_workers
from facegate.procs import free_port
from facegate.supervise import Supervisor, say

READY_TIMEOUT_SECONDS = 180


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="facegate serve", description="start the whole facegate stack")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", default=None, help="default: FACEGATE_DATA_DIR or ./facegate-data")
    p.add_argument("--workers", type=int, default=default_workers(), help="gateway processes")
    p.add_argument("--threads", type=int, default=default_threads(), help="request threads per gateway process")
    p.add_argument("--backend-port", type=int, default=None,
                   help="port of the local face backend (default: a free loopback port)")
    p.add_argument("--no-worker", action="store_true", help="do not start the Celery worker (metrics, alerts)")
    return p


def _prepare_django() -> tuple[str, str, str]:
    """Migrate and release stale reservations; returns (backend token, beat schedule path, database)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from billing.quota import release_stale
    call_command("migrate", verbosity=0, interactive=False)
    count = release_stale(settings.FACEGATE_STALE_RESERVATION_SECONDS)
    if count:
        say(f"released {count} stale quota reservation(s)")
    database = describe_database(settings.DATABASES["default"])
    connection.close()
    return settings.FACEGATE_BACKEND_TOKEN, settings.CELERY_BEAT_SCHEDULE_FILENAME, database


def describe_database(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {db.get('USER') or ''}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _get_ok(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def facegate_command() -> str:
    """How to run `facegate` from the current folder: the venv's script, relative when inside it."""
    script = Path(sys.executable).parent / "facegate"
    if not script.exists():
        return "facegate"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def banner(url: str, listen: str, data_dir: str, database: str) -> str:
    command = facegate_command()
    if os.environ.get("FACEGATE_DATA_DIR") and Path(data_dir) != Path("facegate-data").resolve():
        command = f"FACEGATE_DATA_DIR={shlex.quote(data_dir)} {command}"
    metrics = ""
    if (Path(data_dir) / "metrics_token").exists():  # absent when FACEGATE_METRICS_PUBLIC opened /metrics
        token = shlex.quote(str(Path(data_dir) / "metrics_token"))
        metrics = f'facegate: metrics:       curl -H "Authorization: Bearer $(cat {token})" {url}/metrics\n'
    return (f"facegate: gateway on {url} (listening on {listen}; data dir {data_dir}, database {database})\n"
            f"facegate: console: {url}/console/\n"
            f"facegate: first account: {command} admin create-user --email you@example.com --admin\n"
            f"facegate: first app:     {command} admin create-app --name myapp01 --json\n"
            f"{metrics}facegate: ready")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.data_dir:
        os.environ["FACEGATE_DATA_DIR"] = str(Path(args.data_dir).resolve())
    local_backend = not os.environ.get("FACEGATE_BACKEND_URLS")
    backend_port = args.backend_port or free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    if local_backend:
        os.environ["FACEGATE_BACKEND_URLS"] = backend_url
    # Settings generate the secrets (SECRET_KEY, encryption key, backend token) here, once,
    # before any child could race to create the same files.
    token, beat_schedule, database = _prepare_django()
    from facegate.config import data_dir

    py = sys.executable
    with Supervisor() as supervisor:
        if local_backend:
            supervisor.start("face backend", [py, "-m", "facegate.cli", "backend", "--host", "127.0.0.1",
                                              "--port", str(backend_port)])
        supervisor.start("gateway", [py, "-m", "facegate.cli", "gateway", "--host", args.host,
                                     "--port", str(args.port), "--workers", str(args.workers),
                                     "--threads", str(args.threads)])
        if not args.no_worker:
            supervisor.start("celery worker", [py, "-m", "celery", "-A", "facegate.celery", "--quiet", "worker", "-B",
                                               "--concurrency", "1", "--loglevel", "INFO",
                                               "--schedule", beat_schedule])
        probe_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        gateway_url = f"http://{probe_host}:{args.port}"
        checks = [(f"{gateway_url}/healthz", {})]
        if local_backend:
            checks.append((f"{backend_url}/health", {"X-Facegate-Token": token}))
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not all(_get_ok(url, headers) for url, headers in checks):
            problem = supervisor.first_exit()
            if problem or time.monotonic() > deadline:
                say(f"failed to start: {problem or 'not ready in time'}")
                return 1
            time.sleep(0.3)
        # Bound to every interface: the URL that works from this machine is loopback's.
        print(banner(gateway_url, f"{args.host}:{args.port}", str(data_dir()), database), flush=True)
        supervisor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
