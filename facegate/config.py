"""Settings read from the environment, shared by the Django project and the command line."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlparse


def data_dir() -> Path:
    """The data directory: FACEGATE_DATA_DIR or ./facegate-data, created on first use."""
    path = Path(os.environ.get("FACEGATE_DATA_DIR") or "facegate-data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def persistent_secret(name: str, env_var: str, nbytes: int = 48) -> str:
    """A secret from the environment, else generated once and kept (mode 0600) in the data dir."""
    value = os.environ.get(env_var)
    if value:
        return value
    path = data_dir() / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def database_from_url(url: str | None, sqlite_path: Path) -> dict:
    """A Django DATABASES entry from DATABASE_URL (postgres://...) or the SQLite file in the data dir."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent quota updates queue
                # instead of failing with "database is locked" on lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgres://)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "facegate",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")
