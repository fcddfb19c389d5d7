"""Processes on this machine: free loopback ports, starting a program in a group of its own, waiting
for it to answer, stopping it with its children. Used by `facegate serve`, the benchmarks and the
live tests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

PY = sys.executable
REPO = Path(__file__).resolve().parent.parent  # the checkout: processes start here


class NotReady(RuntimeError):
    """A started process exited, or did not answer in time."""


def free_port() -> int:
    """A loopback port nothing listens on right now (also usable as a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], env: dict, log: Path, cwd: Path = REPO) -> subprocess.Popen:
    """Start in a process group of its own (stop() signals the group), output appended to log.

    `cwd` is the checkout whose code `python -m ...` runs (a benchmark's baseline: an older one)."""
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 15, group: bool = True) -> int:
    """SIGTERM (the whole group, or only the leader, which then stops its own children), SIGKILL to
    the group after `timeout`; returns the exit status."""
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def admin_json(env: dict, *args: str, timeout: float = 120) -> Any:
    """`facegate admin ARGS --json` against the database that `env` names; its JSON output.

    Raises RuntimeError with the command's stderr when it exits non-zero."""
    done = subprocess.run([PY, "-m", "facegate.cli", "admin", *args, "--json"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"facegate admin {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def stack_rows(env: dict, sql: str) -> list[tuple]:
    """Rows of one read-only query on the database a started stack uses (`env` as given to it):
    PostgreSQL when DATABASE_URL is set, else the SQLite file in its data dir."""
    if env.get("DATABASE_URL"):
        import psycopg
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return conn.execute(sql).fetchall()
    import sqlite3
    with sqlite3.connect(Path(env["FACEGATE_DATA_DIR"]) / "facegate.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def wait_ok(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120, headers: dict | None = None) -> None:
    """Until GET url answers 200; NotReady with the log's tail when proc exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotReady(f"{url}: process exited {proc.returncode}\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise NotReady(f"{url} not ready in {timeout}s\n{log.read_text()[-3000:]}")


def start_serve(env: dict, log: Path, port: int, backend_port: int, timeout: float) -> subprocess.Popen:
    """`facegate serve` on loopback with 2 gateway workers; returns once it printed "facegate: ready"."""
    proc = start([PY, "-m", "facegate.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                  "--backend-port", str(backend_port), "--workers", "2"], env, log)
    deadline = time.monotonic() + timeout
    while "facegate: ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise NotReady(f"facegate serve did not become ready:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)
    return proc


def descendants(root: int) -> list[int]:
    """Pids of root's living descendants (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
