"""The admin command line against an end-to-end stack's database (the `stack` fixture's env)."""
from __future__ import annotations

from facegate.procs import admin_json


def admin(stack, *args: str) -> dict:
    """`facegate admin ... --json` against the stack's database; its JSON output."""
    return admin_json(stack["env"], *args, timeout=60)
