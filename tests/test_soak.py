"""A short soak with faults (bench/soak.py): 30 s of signed clients against `facegate serve` with a
kill -9 of a gateway worker and of the face backend. The books close: every success charged, every
charge a success (or a call cut by the killed worker), no reservation left, no process growing.
`make soak` runs the five-minute version on PostgreSQL with a server restart."""
from __future__ import annotations

import json
import subprocess

import pytest

from facegate.procs import PY, REPO

pytestmark = pytest.mark.slow


def test_short_soak_with_kills_keeps_the_books():
    done = subprocess.run([PY, str(REPO / "bench" / "soak.py"), "--duration", "30", "--clients", "4",
                           "--max-growth", "0.25"], capture_output=True, text=True, timeout=600, cwd=REPO)
    report = json.loads(done.stdout)
    assert [e["event"] for e in report["events"]] == ["kill -9 gateway worker", "kill -9 face backend"]
    assert report["successes"] > 20, report
    assert report["successes_not_charged"] == 0 and report["reserved_left"] == 0, report
    assert report["charged_without_seen_success"] <= report["cut_connections"], report
    assert report["ok"] and done.returncode == 0, report
