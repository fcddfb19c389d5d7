"""`facegate serve`: the whole stack in the foreground — face backend, gunicorn gateway, Celery worker.

Runs migrations and releases stale quota reservations first, then supervises the children: Ctrl-C or
SIGTERM stops them all; if any child dies, the others are stopped and serve exits non-zero.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STALE_EVERY_SECONDS = 60
READY_TIMEOUT_SECONDS = 180
STOP_GRACE_SECONDS = 15


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="facegate serve", description="start the whole facegate stack")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--data-dir", default=None, help="default: FACEGATE_DATA_DIR or ./facegate-data")
    p.add_argument("--workers", type=int, default=max(2, min(4, os.cpu_count() or 2)), help="gateway processes")
    p.add_argument("--backend-port", type=int, default=8001, help="port of the local face backend")
    p.add_argument("--no-worker", action="store_true", help="do not start the Celery worker (metrics)")
    return p


def _prepare_django() -> tuple[float, str, str]:
    """Migrate and release stale reservations; returns (stale age, backend token, beat schedule path)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facegate.settings")
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    call_command("migrate", verbosity=0, interactive=False)
    stale_after = settings.FACEGATE_BACKEND_TIMEOUT + 30
    _release_stale(stale_after)
    connection.close()
    return stale_after, settings.FACEGATE_BACKEND_TOKEN, str(settings.DATA_DIR / "celerybeat-schedule")


def _release_stale(older_than: float) -> None:
    from billing.quota import release_stale
    from django.db import connection
    try:
        count = release_stale(older_than)
        if count:
            print(f"facegate: released {count} stale quota reservation(s)", flush=True)
    finally:
        connection.close()


def _get_ok(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


class Stack:
    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> None:
        # Own process group: a terminal's Ctrl-C reaches only us, and we stop children in order.
        self.children[name] = subprocess.Popen(argv, start_new_session=True)

    def dead(self) -> str | None:
        for name, proc in self.children.items():
            if proc.poll() is not None:
                return f"{name} exited with status {proc.returncode}"
        return None

    def stop(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self.children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class _Stop(Exception):
    pass


def _raise_stop(signum, frame) -> None:
    raise _Stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.data_dir:
        os.environ["FACEGATE_DATA_DIR"] = str(Path(args.data_dir).resolve())
    local_backend = not os.environ.get("FACEGATE_BACKEND_URLS")
    backend_url = f"http://127.0.0.1:{args.backend_port}"
    if local_backend:
        os.environ["FACEGATE_BACKEND_URLS"] = backend_url
    # Settings generate the secrets (SECRET_KEY, encryption key, backend token) here, once,
    # before any child could race to create the same files.
    stale_after, token, beat_schedule = _prepare_django()

    stack = Stack()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    py = sys.executable
    try:
        if local_backend:
            stack.start("face backend", [py, "-m", "facegate.cli", "backend", "--host", "127.0.0.1",
                                         "--port", str(args.backend_port)])
        stack.start("gateway", [py, "-m", "gunicorn", "facegate.wsgi:application", "--bind",
                                f"{args.host}:{args.port}", "--workers", str(args.workers),
                                "--timeout", str(int(stale_after)), "--graceful-timeout", "10",
                                # Unused, and its default path in $HOME is shared by every stack on the machine.
                                "--no-control-socket"])
        if not args.no_worker:
            stack.start("celery worker", [py, "-m", "celery", "-A", "facegate.celery", "worker", "-B",
                                          "--concurrency", "1", "--loglevel", "INFO", "--schedule", beat_schedule])
        probe_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        gateway_url = f"http://{probe_host}:{args.port}"
        checks = [(f"{gateway_url}/healthz", {})]
        if local_backend:
            checks.append((f"{backend_url}/health", {"X-Facegate-Token": token}))
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not all(_get_ok(url, headers) for url, headers in checks):
            problem = stack.dead()
            if problem or time.monotonic() > deadline:
                print(f"facegate: failed to start: {problem or 'not ready in time'}", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.3)
        print(f"facegate: gateway listening on http://{args.host}:{args.port} "
              f"(data dir {os.environ.get('FACEGATE_DATA_DIR') or Path('facegate-data').resolve()})\n"
              f"facegate: create an app with: facegate admin create-app --name myapp --json\n"
              f"facegate: ready", flush=True)
        last_stale = time.monotonic()
        while True:
            problem = stack.dead()
            if problem:
                print(f"facegate: {problem}; stopping", file=sys.stderr, flush=True)
                return 1
            if time.monotonic() - last_stale > STALE_EVERY_SECONDS:
                _release_stale(stale_after)
                last_stale = time.monotonic()
            time.sleep(0.5)
    except _Stop:
        print("facegate: stopping", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
