"""The live gateway tests' stack: environment, the admin CLI, a fresh PG database, the charge ledger."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from facegate.procs import admin_json, stack_rows

TOKEN = "live-test-backend-token"


def stack_env(data_dir: Path, database_url: str | None, backend_urls: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FACEGATE_DATA_DIR=str(data_dir), FACEGATE_BACKEND_URLS=backend_urls, FACEGATE_BACKEND_TOKEN=TOKEN,
               FACEGATE_DEFAULT_RATE_LIMIT="1000")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def admin(env: dict, *args: str) -> dict:
    """Run `facegate admin ... --json` against the stack's database; its JSON output."""
    return admin_json(env, *args)


def postgres_url_or_skip() -> str:
    url = os.environ.get("FACEGATE_TEST_POSTGRES_URL", "")
    if not url:
        message = "FACEGATE_TEST_POSTGRES_URL is not set (tools/ensure_services.sh starts a server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


class FreshPostgresDatabase:
    """CREATE DATABASE facegate_test_<random> on the server; DROP it afterwards."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"facegate_test_{secrets.token_hex(4)}"
        self.url = urlunparse(urlparse(server_url)._replace(path="/" + self.name))

    def _admin_sql(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(sql)

    def __enter__(self) -> str:
        self._admin_sql(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        self._admin_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def charge_statuses(env: dict) -> dict[str, int]:
    """Charge rows per status, read straight from the stack's database."""
    return dict(stack_rows(env, "SELECT status, COUNT(*) FROM billing_charge GROUP BY status"))
