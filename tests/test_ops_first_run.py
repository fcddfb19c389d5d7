"""First run as a new user meets it: `facegate serve` prints how to go on, two stacks run side by
side (each picks a free backend port), start and Ctrl-C log no warnings or errors; `facegate admin`
never silently starts a second database; `facegate detect --help`, compact JSON, `models list`."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from facegate.procs import descendants, free_port, start, stop

# Running as root (this CI machine) Celery warns that it runs as root: true, and not a defect.

from facegate.procs import PY, REPO

# Running as root (this CI machine) Celery warns that it runs as root: true, and not a defect.
ROOT_ONLY = re.compile(r"SecurityWarning: You're running the worker with superuser privileges")


def _env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FACEGATE_BACKEND_URLS",
                                                             "FACEGATE_BACKEND_TOKEN", "REDIS_URL")}
    env["FACEGATE_DATA_DIR"] = str(data)
    return env


def _wait_ready(proc: subprocess.Popen, log: Path, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while "facegate: ready" not in (text := log.read_text(errors="replace")):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            pytest.fail(f"serve did not become ready:\n{text[-3000:]}")
        time.sleep(0.3)
    return text


def _problems(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if re.search(r"WARNING|ERROR|Warning|Traceback", line)]
    return [line for line in lines if not (os.geteuid() == 0 and ROOT_ONLY.search(line))]


@pytest.mark.slow
def test_two_stacks_side_by_side_with_a_helpful_banner_and_a_clean_log(tmp_path):
    stacks = []
    for name in ("one", "two"):
        data = tmp_path / name
        port = free_port()
        log = tmp_path / f"{name}.log"
        # No --backend-port: each stack's backend must find a port of its own.
        proc = start([PY, "-m", "facegate.cli", "serve", "--port", str(port), "--workers", "1"], _env(data), log)
        stacks.append((proc, log, port, data))
    try:
        for proc, log, port, data in stacks:
            text = _wait_ready(proc, log)
            assert f"console: http://127.0.0.1:{port}/console/" in text
            assert re.search(r"first account: FACEGATE_DATA_DIR=\S+ \S*facegate admin create-user --email", text)
            assert f"database SQLite {data / 'facegate.sqlite3'}" in text
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
            assert requests.get(f"http://127.0.0.1:{port}/console/login/", timeout=10).status_code == 200
    finally:
        for proc, log, port, data in stacks:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C delivers (the children run in their own groups)
        codes = [stop(proc, timeout=40, group=False) for proc, *_ in stacks]
    for (proc, log, *_), code in zip(stacks, codes):
        text = log.read_text(errors="replace")
        assert code == 0, text[-3000:]
        assert "facegate: stopping" in text
        assert not _problems(text), _problems(text)


def _cli(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "facegate.cli", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_admin_without_a_data_dir_refuses_instead_of_creating_a_second_database(tmp_path):
    env = {k: v for k, v in _env(tmp_path).items() if k != "FACEGATE_DATA_DIR"}
    env["PYTHONPATH"] = str(REPO)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = _cli(["admin", "apps", "list", "--json"], elsewhere, env)
    assert refused.returncode == 2
    assert f"no facegate database at {elsewhere / 'facegate-data' / 'facegate.sqlite3'}" in refused.stderr
    assert list(elsewhere.iterdir()) == []  # nothing was created
    made = _cli(["admin", "--data-dir", str(tmp_path / "server"), "create-app", "--name", "firstrun", "--json"],
                elsewhere, env)
    assert made.returncode == 0, made.stderr
    assert "creating a new database" in made.stderr and "database SQLite" in made.stderr
    assert "\n" not in made.stdout.strip()  # compact JSON by default
    listed = _cli(["admin", "--data-dir", str(tmp_path / "server"), "apps", "list", "--json", "--pretty"],
                  elsewhere, env)
    assert listed.returncode == 0 and "creating" not in listed.stderr
    assert json.loads(listed.stdout)[0]["name"] == "firstrun" and listed.stdout.count("\n") > 3
    inited = _cli(["admin", "--init", "apps", "list", "--json"], elsewhere, env)
    assert inited.returncode == 0 and (elsewhere / "facegate-data" / "facegate.sqlite3").exists()


def test_engine_commands_help_compact_json_and_every_model_listed(tmp_path, shared_dir):
    env = _env(tmp_path)
    helped = _cli(["detect", "--help"], REPO, env)
    assert helped.returncode == 0 and "usage: facegate detect" in helped.stdout and "--pretty" in helped.stdout
    photo = str(shared_dir / "data" / "photos" / "009_C.jpg")
    compact = _cli(["detect", photo], REPO, env)
    assert compact.returncode == 0 and compact.stdout.count("\n") == 1
    assert json.loads(compact.stdout)["result"]["face_num"] == 1
    pretty = _cli(["detect", photo, "--pretty"], REPO, env)
    assert json.loads(pretty.stdout) == json.loads(compact.stdout) and pretty.stdout.count("\n") > 10
    models = _cli(["models", "list"], REPO, env)
    assert models.returncode == 0
    for name in ("YuNet face detector", "RetinaFace-mobilenet0.25 face detector", "SFace face recognizer", "age-v1", "gender-v1",
                 "liveness: minifasnet-v2", "liveness: minifasnet-v1se", "mask: mask-head", "mask: mask-cnn"):
        assert name in models.stdout, (name, models.stdout)


@pytest.mark.slow
def test_killing_serve_leaves_no_orphans_holding_the_ports(tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    proc = start([PY, "-m", "facegate.cli", "serve", "--port", str(port), "--workers", "2"], _env(tmp_path / "d"), log)
    _wait_ready(proc, log)
    children = descendants(proc.pid)
    assert len(children) >= 5, children  # backend, gateway supervisor, 2 gateway workers, celery (+ pool)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while (alive := [pid for pid in children if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not alive, alive
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the gateway binds it
        sock.bind(("127.0.0.1", port))  # nothing listens there any more


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
