"""Soak with faults: signed clients for a while against `facegate serve`, with a kill -9 of a gateway
worker, a kill -9 of the face backend and (optionally) a PostgreSQL restart, then the books.

Afterwards, read from the database itself: every success a client saw is charged, every charge
is a success a client saw (or a call whose connection the killed worker cut after settling), no
reservation is left open, and the resident memory of every process that lived through the run
grew by less than --max-growth. Prints one JSON report; exit status 1 when a check fails.

  .venv/bin/python bench/soak.py --duration 300 --clients 16 --database-url postgres://... \
      --restart-postgres /tmp/facegate-services/postgres        # `make soak`
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from facegate.client import MillisecondClock, signed_request  # noqa: E402
from facegate.procs import admin_json, command_line, descendants, free_port, stack_rows, start_serve, stop  # noqa: E402

PHOTO = REPO.parent / "shared" / "data" / "photos" / "009_C.jpg"  # one face, 100 KB


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def role(pid: int) -> str:
    cmd = command_line(pid)
    for name in ("backend", "gateway", "celery"):
        if name in cmd:
            return f"{name}{' worker' if name == 'gateway' and '--fd' in cmd else ''}"
    return cmd.split(" ")[0]


def ledger(env: dict) -> dict[str, list[str]]:
    """request ids per charge status, from the stack's own database."""
    rows = stack_rows(env, "SELECT status, request_id FROM billing_charge")
    out: dict[str, list[str]] = {}
    for status, request_id in rows:
        out.setdefault(status, []).append(request_id)
    return out


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server of `server_url`; its URL."""
    import psycopg
    name = f"facegate_soak_{int(time.time())}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def restart_postgres(cluster: Path) -> float:
    """Restart our own test cluster (tools/ensure_services.sh); seconds it took."""
    bin_dir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    run_as = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    started = time.monotonic()
    # The server's output goes to its log file: a pipe here would be held open by the new server.
    subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(cluster / "data"), "-l", str(cluster / "server.log"),
                    "-m", "fast", "-w", "restart"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)
    return round(time.monotonic() - started, 2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=300)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--database-url", default="", help="a PostgreSQL server (any database on it): the stack "
                   "gets a new database there (default: SQLite)")
    p.add_argument("--restart-postgres", default="", help="our own cluster's folder: restart it mid-run")
    p.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth per process")
    args = p.parse_args(argv)

    data = Path(tempfile.mkdtemp(prefix="facegate-soak-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FACEGATE_BACKEND_URLS", "REDIS_URL")}
    # Short stale-reservation and housekeeping periods, so the books close within the run's tail.
    env.update(FACEGATE_DATA_DIR=str(data), FACEGATE_DEFAULT_RATE_LIMIT="100000", FACEGATE_BACKEND_TIMEOUT="10",
               FACEGATE_STALE_RESERVATION_SECONDS="20", FACEGATE_HOUSEKEEPING_SECONDS="5")
    if args.database_url:
        env["DATABASE_URL"] = fresh_database(args.database_url)
    port, log = free_port(), data / "serve.log"
    proc = start_serve(env, log, port, free_port(), timeout=180)
    try:
        return _soak(args, env, proc, f"http://127.0.0.1:{port}")
    finally:
        stop(proc, timeout=60, group=False)


def _soak(args: argparse.Namespace, env: dict, proc: subprocess.Popen, base: str) -> int:
    app = admin_json(env, "create-app", "--name", "soaker")
    admin_json(env, "grant", "--app", app["app_key"], "--api", "detect", "--calls", "10000000", "--days", "30")
    body = json.dumps({"imageContent": base64.b64encode(PHOTO.read_bytes()).decode()}).encode()
    clock, lock = MillisecondClock(), threading.Lock()
    results: list[tuple[str, str]] = []  # (code or "connection", request id)
    stop_at = time.monotonic() + args.duration

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < stop_at:
            path, headers = signed_request(app["app_key"], app["app_secret"], app["service_codes"]["detect"],
                                           "detect", body, clock.next())
            try:
                response = session.post(base + path, data=body, headers=headers, timeout=60)
                item = (response.json()["code"], response.headers.get("X-Request-Id", ""))
            except (requests.RequestException, ValueError):
                item = ("connection", "")
                session = requests.Session()
            with lock:
                results.append(item)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    events: list[dict] = []
    rss_first: dict[int, tuple[str, int]] = {}
    rss_last: dict[int, tuple[str, int]] = {}
    faults = [(0.3, "kill -9 gateway worker"), (0.5, "kill -9 face backend")]
    if args.restart_postgres:
        faults.append((0.7, "restart PostgreSQL"))
    t0 = time.monotonic()
    while time.monotonic() < stop_at:
        elapsed = (time.monotonic() - t0) / args.duration
        pids = {pid: role(pid) for pid in descendants(proc.pid)}
        if elapsed > 0.15:  # after warm-up: models loaded, caches full
            if not rss_first:  # the processes of the first sample are the ones whose growth is judged
                rss_first = {pid: (name, rss_kb(pid)) for pid, name in pids.items()}
            for pid in rss_first.keys() & pids.keys():
                rss_last[pid] = (pids[pid], rss_kb(pid))
        while faults and elapsed >= faults[0][0]:
            _, what = faults.pop(0)
            if what.startswith("restart"):
                events.append({"at_s": round(time.monotonic() - t0, 1), "event": what,
                               "seconds": restart_postgres(Path(args.restart_postgres))})
                continue
            wanted = "gateway worker" if "gateway" in what else "backend"
            victim = next(pid for pid, name in pids.items() if name == wanted)
            os.kill(victim, signal.SIGKILL)
            rss_first.pop(victim, None)
            rss_last.pop(victim, None)
            events.append({"at_s": round(time.monotonic() - t0, 1), "event": what, "pid": victim})
        time.sleep(1)
    for thread in threads:
        thread.join(timeout=90)

    # The books: wait for the beat to release reservations of the killed worker.
    deadline = time.monotonic() + 120
    books = ledger(env)
    while books.get("reserved") and time.monotonic() < deadline:
        time.sleep(2)
        books = ledger(env)

    codes: dict[str, int] = {}
    for code, _ in results:
        codes[code] = codes.get(code, 0) + 1
    successes = {rid for code, rid in results if code == "0"}
    charged = set(books.get("charged", []))
    growth = {f"{name} {pid}": round(rss_last[pid][1] / max(first, 1) - 1, 4)
              for pid, (name, first) in rss_first.items() if pid in rss_last}
    report = {
        "duration_s": args.duration, "clients": args.clients, "gateway_workers": 2,
        "database": "PostgreSQL" if args.database_url else "SQLite", "events": events,
        "requests": len(results), "codes": codes,
        "successes": len(successes), "charged": len(charged),
        "successes_not_charged": len(successes - charged),
        "charged_without_seen_success": len(charged - successes),
        "cut_connections": codes.get("connection", 0),
        "reserved_left": len(books.get("reserved", [])),
        "rss_kb_first_last": {f"{n} {pid}": [rss_first[pid][1], rss_last[pid][1]] for pid, (n, _) in rss_first.items()
                              if pid in rss_last},
        "rss_growth": growth,
    }
    report["ok"] = (report["successes_not_charged"] == 0 and report["reserved_left"] == 0
                    and report["charged_without_seen_success"] <= report["cut_connections"]
                    and all(g < args.max_growth for g in growth.values()))
    print(json.dumps(report, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
