"""Production is one setting: FACEGATE_PUBLIC_URL pins the host, and for https turns on secure
cookies and HSTS; a CSP goes on every response; `check --deploy` is clean. /metrics needs its token
from everyone (loopback included) unless FACEGATE_METRICS_PUBLIC opens it. Each case runs Django in
a fresh process with its own environment, as a deployment would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from facegate.procs import REPO

PROBE = r"""
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
login = client.get("/console/login/", HTTP_HOST="face.example.com", secure=True)
print(json.dumps({
    "login": login.status_code,
    "csp": login.headers.get("Content-Security-Policy", ""),
    "hsts": login.headers.get("Strict-Transport-Security", ""),
    "cookie_secure": bool(login.cookies["csrftoken"]["secure"]) if "csrftoken" in login.cookies else None,
    "other_host": client.get("/healthz", HTTP_HOST="evil.example").status_code,
    "metrics": client.get("/metrics").status_code,
    "metrics_token": client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + settings.FACEGATE_METRICS_TOKEN).status_code,
}))
"""


def _run(tmp_path: Path, argv: list[str], **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEGATE_") or k == "FACEGATE_MODEL_MIRROR"}
    env.pop("DATABASE_URL", None)
    env.update(FACEGATE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="facegate.settings", **env_vars)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=REPO, check=True, timeout=120)
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def _probe(tmp_path: Path, **env_vars: str) -> dict:
    done = _run(tmp_path, [sys.executable, "-c", PROBE], **env_vars)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_public_url_turns_on_production_headers_and_pins_the_host(tmp_path):
    got = _probe(tmp_path, FACEGATE_PUBLIC_URL="https://face.example.com")
    assert got["login"] == 200 and got["other_host"] == 400
    assert "default-src 'self'" in got["csp"] and "frame-ancestors 'none'" in got["csp"]
    assert got["hsts"].startswith("max-age=31536000")
    assert got["cookie_secure"] is True
    deploy = _run(tmp_path, [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  FACEGATE_PUBLIC_URL="https://face.example.com")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr


def test_without_public_url_any_host_is_served_over_plain_http(tmp_path):
    got = _probe(tmp_path)
    assert got["login"] == 200 and got["other_host"] == 200
    assert got["csp"] == "" and got["hsts"] == "" and got["cookie_secure"] is False


def test_metrics_needs_its_token_even_from_loopback_unless_opened(tmp_path):
    got = _probe(tmp_path)
    assert (got["metrics"], got["metrics_token"]) == (403, 200)
    assert (tmp_path / "metrics_token").stat().st_mode & 0o777 == 0o600
    opened = _probe(tmp_path, FACEGATE_METRICS_PUBLIC="1")
    assert opened["metrics"] == 200
