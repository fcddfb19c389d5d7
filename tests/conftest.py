"""Test-wide set-up: a throw-away data dir before Django settings load, and paths to ../shared."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("FACEGATE_DATA_DIR", tempfile.mkdtemp(prefix="facegate-test-"))

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FACEGATE_SHARED_DIR", REPO.parent / "shared"))
os.environ.setdefault("FACEGATE_MODEL_MIRROR", str(SHARED / "models"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED}: tests need the shared data folder")
    return SHARED
