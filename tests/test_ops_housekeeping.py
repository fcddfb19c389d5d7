"""Housekeeping runs wherever a Celery worker with beat runs (docker-compose included), not only
inside `facegate serve`: a real `celery worker -B` releases a crashed request's reservation and
prunes expired replay-cache signatures, with the one lifetime gateway.replay defines."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facegate.procs import stop

from facegate.procs import REPO

pytestmark = pytest.mark.slow

SETUP = r"""
import json, uuid
from datetime import timedelta
import django; django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from billing import quota
from billing.models import Charge
from billing.orders import grant_pack
from gateway import replay
from gateway.models import SeenSign
from gateway.services import create_application
from django.core.management import call_command
call_command("migrate", verbosity=0)
owner = get_user_model().objects.create_user("house@example.com", password="x" * 16)
app, _ = create_application(owner, "housekeep")
grant_pack(app, "detect", 10, 30)
crashed = quota.reserve(app, "detect", uuid.uuid4().hex)
live = quota.reserve(app, "detect", uuid.uuid4().hex)
Charge.objects.filter(pk=crashed.pk).update(created_at=timezone.now() - timedelta(hours=1))
expired = timezone.now() - timedelta(seconds=replay._ttl_seconds() + 1)
SeenSign.objects.create(sign="expired-sign", seen_at=expired)
SeenSign.objects.create(sign="fresh-sign", seen_at=timezone.now())
print(json.dumps({"crashed": crashed.pk, "live": live.pk}))
"""


def _rows(db: Path, sql: str) -> dict:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute(sql).fetchall())


def test_beat_releases_stale_reservations_and_prunes_the_replay_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "FACEGATE_CELERY_EAGER")}
    env.update(FACEGATE_DATA_DIR=str(tmp_path), FACEGATE_HOUSEKEEPING_SECONDS="1", DJANGO_SETTINGS_MODULE="facegate.settings")
    done = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    db = tmp_path / "facegate.sqlite3"
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "facegate.celery", "worker", "-B", "--concurrency", "1",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--schedule", str(tmp_path / "beat")],
        env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            statuses = _rows(db, "SELECT id, status FROM billing_charge")
            signs = _rows(db, "SELECT sign, 1 FROM gateway_seensign")
            if statuses[ids["crashed"]] == "released" and "expired-sign" not in signs:
                break
            assert time.monotonic() < deadline, (statuses, signs, log.read_text()[-3000:])
            time.sleep(0.5)
    finally:
        stop(worker, timeout=30, group=False)
    assert statuses[ids["live"]] == "reserved"  # a request still in flight keeps its reservation
    assert "fresh-sign" in signs
    assert _rows(db, "SELECT api, calls_used FROM billing_resourcepack") == {"detect": 1}
    text = log.read_text()
    assert "billing.release_stale" in text and "gateway.prune_replay_cache" in text
