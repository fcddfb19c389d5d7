"""`facegate admin` as users run it: a real process on a real SQLite data dir, errors included."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from facegate.procs import PY, REPO


@pytest.fixture
def admin(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FACEGATE_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PY, "-m", "facegate.cli", "admin", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)

    run.env = env
    return run


def _json(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_create_app_validates_the_name_and_writes_nothing_on_error(admin):
    for bad in ("abc", "a" * 16, "    "):
        proc = admin("create-app", "--name", bad, "--json")
        assert proc.returncode != 0 and "error:" in proc.stderr, (bad, proc.stdout, proc.stderr)
    assert _json(admin("apps", "list", "--json")) == []
    app = _json(admin("create-app", "--name", "okname", "--json"))
    assert set(app["service_codes"]) == {"detect", "attributes", "compare", "liveness", "mask", "library"}
    assert len(app["app_secret"]) >= 32 and len(app["app_key"]) == 32


def test_grant_and_usage_reject_unknown_apps_and_apis(admin):
    app = _json(admin("create-app", "--name", "grantee", "--json"))
    assert admin("grant", "--app", app["app_key"], "--api", "nope", "--calls", "5").returncode != 0
    assert admin("grant", "--app", "0" * 32, "--api", "detect", "--calls", "5").returncode != 0
    assert admin("usage", "--app", "0" * 32, "--json").returncode != 0
    _json(admin("grant", "--app", app["app_key"], "--api", "detect", "--calls", "5", "--days", "3", "--json"))
    usage = _json(admin("usage", "--app", app["app_key"], "--json"))
    assert usage["detect"]["remaining"] == 5 and usage["compare"]["remaining"] == 0


def test_create_user_without_password_prints_one_that_signs_in(admin):
    made = _json(admin("create-user", "--email", "ops@example.com", "--admin", "--json"))
    assert made["admin"] is True and len(made["password"]) >= 12
    check = ("import django, sys; django.setup(); from django.contrib.auth import authenticate; "
             "sys.exit(0 if authenticate(username=sys.argv[1], password=sys.argv[2]) else 3)")
    env = {**admin.env, "DJANGO_SETTINGS_MODULE": "facegate.settings"}
    signed_in = subprocess.run([PY, "-c", check, "ops@example.com", made["password"]], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=60)
    assert signed_in.returncode == 0, signed_in.stderr
    assert admin("create-user", "--email", "ops@example.com").returncode != 0  # exists already


def test_create_user_refuses_a_weak_password(admin):
    proc = admin("create-user", "--email", "weak@example.com", "--password", "123")
    assert proc.returncode != 0 and "error:" in proc.stderr
    assert "password" not in _json(admin("create-user", "--email", "weak@example.com", "--password",
                                         "a-long-enough-passphrase", "--json"))
