"""A running `facegate serve` for the browser test: its URL, data dir and `facegate admin` against it."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USER, PASSWORD = "console-user@example.com", "Sunflower-Gate-42"


@dataclass
class Stack:
    url: str
    data_dir: Path
    env: dict[str, str]
    log: Path

    def admin(self, *args: str) -> str:
        """Run `facegate admin ...` against this stack's data dir; returns stdout."""
        done = subprocess.run([sys.executable, "-m", "facegate.cli", "admin", *args], env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout
