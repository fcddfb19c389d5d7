"""The admin command line against an end-to-end stack's database (the `stack` fixture's env)."""
from __future__ import annotations

import json
import subprocess
import sys


def admin(stack, *args: str) -> dict:
    """`facegate admin ... --json` against the stack's database; its JSON output."""
    done = subprocess.run([sys.executable, "-m", "facegate.cli", "admin", *args, "--json"], env=stack["env"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
