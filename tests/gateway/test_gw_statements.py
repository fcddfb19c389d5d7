"""What a metered call costs the database: the statements of the hot path, pinned.

Per call: the app's SELECT (auth), the replay cache's INSERT, the rate counter's UPDATE (both in
Redis instead when REDIS_URL is set), then the
quota: one statement to reserve and one to settle on PostgreSQL (data-modifying CTEs, starting
WITH), two and one (two when calls go back to the pack) inside one transaction on SQLite.
Transaction control (BEGIN, COMMIT, savepoints) is not counted: on SQLite it is an in-process call.
"""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import quota
from billing.orders import grant_pack
from facegate.apis import public_path
from facegate.procs import free_port

pytestmark = pytest.mark.django_db(transaction=True)  # no test transaction around the calls: as served

_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"].split()[0].upper() for q in queries.captured_queries
            if not q["sql"].upper().startswith(_CONTROL)]


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def test_reserve_and_settle_are_one_statement_each(app_and_secret):
    app = app_and_secret[0]
    pack = grant_pack(app, "detect", 10, 30)
    with CaptureQueriesContext(connection) as reserving:
        charge = quota.reserve(app, "detect", "stmt-1")
    with CaptureQueriesContext(connection) as settling:
        quota.settle(charge, "0")
    assert _statements(reserving) == (["WITH"] if _postgres() else ["UPDATE", "INSERT"])
    assert _statements(settling) == ["UPDATE"]
    pack.refresh_from_db()
    assert (pack.calls_used, charge.status, charge.pack_id) == (1, "charged", pack.pk)


def test_a_metered_call_runs_one_statement_per_step(call, app_and_secret, settings):
    # The backend is down: 5000 and the call released back to its pack (the costlier settle).
    settings.FACEGATE_BACKEND_URLS = [f"http://127.0.0.1:{free_port()}"]
    app = app_and_secret[0]
    pack = grant_pack(app, "detect", 10, 30)
    path = public_path(app.service_code_for("detect"), "detect")
    assert call(path=path)["code"] == "5000"  # the app's first call also creates its rate counter
    with CaptureQueriesContext(connection) as queries:
        assert call(path=path)["code"] == "5000"
    quota_statements = ["WITH", "WITH"] if _postgres() else ["UPDATE", "INSERT", "UPDATE", "UPDATE"]
    # With Redis the replay cache and the rate counter live there, not in the database.
    shared_state = [] if settings.REDIS_URL else ["INSERT", "UPDATE"]
    assert _statements(queries) == ["SELECT", *shared_state, *quota_statements]
    pack.refresh_from_db()
    assert pack.calls_used == 0
