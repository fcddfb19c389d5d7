"""Settings read from the environment, shared by the Django project and the command line."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlparse, urlsplit


SQLITE_NAME = "facegate.sqlite3"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def data_dir_path() -> Path:
    """Where the data directory is (FACEGATE_DATA_DIR or ./facegate-data), created or not."""
    return Path(os.environ.get("FACEGATE_DATA_DIR") or "facegate-data").resolve()


def data_dir() -> Path:
    """The data directory (data_dir_path), created on first use, private to this user (it holds
    the database with live session keys, and the secrets)."""
    return private_dir(data_dir_path())


def private_dir(path: Path) -> Path:
    """Create path (mode 0700) or take group/other access away from an existing one we own."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _restrict(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create an empty file 0600 unless it exists; take group/other access away from one we own."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    _restrict(path, PRIVATE_FILE_MODE)
    return path


def _restrict(path: Path, mode: int) -> None:
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        path.chmod(mode)


def private_umask() -> None:
    """Files this process (and the children it starts) creates are readable by this user only:
    SQLite journals, broker messages, the beat schedule, model cache copies. Set by the command-line
    entry points, not on import, so that importing settings (tests, tools) changes nothing global."""
    os.umask(0o077)


def persistent_secret(name: str, env_var: str, nbytes: int = 48) -> str:
    """A secret from the environment, else generated once and kept (mode 0600) in the data dir."""
    value = os.environ.get(env_var)
    if value:
        return value
    path = data_dir() / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
    _restrict(path, PRIVATE_FILE_MODE)
    return path.read_text().strip()


def database_from_url(url: str | None, sqlite_path: Path) -> dict:
    """A Django DATABASES entry from DATABASE_URL (postgres://...) or the SQLite file in the data dir."""
    if not url:
        # SQLite creates its -wal and -shm files with the database file's mode: 0600 for all three.
        for suffix in ("", "-wal", "-shm"):
            candidate = sqlite_path.with_name(sqlite_path.name + suffix)
            if not suffix or candidate.exists():
                private_file(candidate)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            # Each server thread keeps its connection: opening one runs the PRAGMAs below and closing
            # the last one checkpoints the WAL, which cost a gateway call ~13 ms when done per request.
            "CONN_MAX_AGE": 600,
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


def public_url(value: str) -> SplitResult | None:
    """FACEGATE_PUBLIC_URL parsed, None when unset; ValueError unless it is http(s)://host[:port]."""
    if not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"FACEGATE_PUBLIC_URL {value!r} must look like https://face.example.com")
    return parts
