"""tools/ensure_services.sh, run for real: reuse the servers that run, and start our own when forced
to (a throw-away PostgreSQL cluster and Redis on free ports), then stop them."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tools" / "ensure_services.sh"


def _bash(script: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"set -euo pipefail; {script}"], cwd=REPO, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


def _exports(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if line.startswith("FACEGATE_"))


def test_uses_or_starts_services_and_exports_urls():
    out = _bash("source tools/ensure_services.sh; env | grep '^FACEGATE_TEST_'",
                {"FACEGATE_ENSURE_SERVICES": "postgres redis"})
    assert out.returncode == 0, out.stderr
    urls = _exports(out.stdout)
    assert urls["FACEGATE_TEST_POSTGRES_URL"].startswith("postgres://postgres@127.0.0.1:")
    assert urls["FACEGATE_TEST_REDIS_URL"].startswith("redis://127.0.0.1:")
    assert [line.split(":")[0] for line in out.stdout.splitlines()[:2]] == ["postgres", "redis"]


def test_starts_its_own_postgres_and_redis_when_forced():
    # Under /tmp with mode 755: the cluster runs as the postgres user, which must reach its folder.
    state = Path(tempfile.mkdtemp(prefix="fg-own-services-", dir="/tmp"))
    state.chmod(0o755)
    env = {"FACEGATE_FORCE_OWN_SERVICES": "1", "FACEGATE_ENSURE_SERVICES": "postgres redis",
           "FACEGATE_SERVICES_DIR": str(state)}
    check = ("source tools/ensure_services.sh; env | grep '^FACEGATE_TEST_';"
             "port=${FACEGATE_TEST_POSTGRES_URL##*:}; port=${port%%/*};"
             "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/psql -X -h 127.0.0.1 -p $port -U postgres"
             " -tAc 'select 41+1';"
             "rport=${FACEGATE_TEST_REDIS_URL##*:}; rport=${rport%%/*}; redis-cli -p $rport ping")
    try:
        first = _bash(check, env)
        assert first.returncode == 0, first.stderr
        assert "postgres: started our own server" in first.stdout and "redis: started our own server" in first.stdout
        urls = _exports(first.stdout)
        assert not urls["FACEGATE_TEST_POSTGRES_URL"].endswith(":5432/postgres")
        assert "\n42\n" in first.stdout and "PONG" in first.stdout
        again = _bash(check, env, timeout=30)  # idempotent: the same servers are reused
        assert again.returncode == 0, again.stderr
        assert "using our own server" in again.stdout and _exports(again.stdout) == urls
    finally:
        stop = _bash("source tools/ensure_services.sh >/dev/null; facegate_stop_own_services",
                     {**env, "FACEGATE_ENSURE_SERVICES": ""})
        assert stop.returncode == 0, stop.stderr
    assert not (state / "postgres" / "data" / "postmaster.pid").exists()
    shutil.rmtree(state, ignore_errors=True)


def test_unknown_service_fails_loudly():
    out = _bash("source tools/ensure_services.sh", {"FACEGATE_ENSURE_SERVICES": "nosuchservice"})
    assert out.returncode != 0 and "unknown service" in out.stderr


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="chromium not installed on this machine")
def test_chromium_is_exported():
    out = _bash("source tools/ensure_services.sh; echo CHROMIUM=$FACEGATE_CHROMIUM",
                {"FACEGATE_ENSURE_SERVICES": "chromium"})
    assert out.returncode == 0 and "CHROMIUM=/usr/bin/chromium" in out.stdout
