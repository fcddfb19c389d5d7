"""A data dir left readable by an older version (0755 folder, 0644 database and secrets) is made
private by the next command that opens it; a new one is created private."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from facegate.procs import REPO
from test_ops_serving import assert_private


def _admin(data: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FACEGATE_DATA_DIR"] = str(data)
    return subprocess.run([sys.executable, "-m", "facegate.cli", "admin", "apps", "list", "--json"], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_new_data_dir_is_private(tmp_path):
    data = tmp_path / "fresh"
    done = _admin(data)
    assert done.returncode == 0, done.stderr
    assert (data / "facegate.sqlite3").stat().st_size > 0
    assert_private(data)


def test_old_readable_data_dir_is_made_private(tmp_path):
    data = tmp_path / "old"
    assert _admin(data).returncode == 0
    data.chmod(0o755)
    for path in [*data.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    done = _admin(data)
    assert done.returncode == 0, done.stderr
    assert_private(data)
