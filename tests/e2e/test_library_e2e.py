"""The face library end to end: `facegate serve` on loopback, signed calls through the SDK, real
LFW photos. Enrol, search, compare against a stored face, batch compare and batch enrolment, with
the ledger checked per pair and per item, and free group management; an app's operating point and
face limit; a deleted app's library removed by Celery beat after the backend was unreachable."""
from __future__ import annotations

import csv
import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from facegate.client import Client, FacegateError, QuotaError
from facegate.procs import admin_json, free_port
from e2e_stack import admin

pytestmark = pytest.mark.slow
PY = sys.executable


@pytest.fixture(scope="module")
def people(shared_dir) -> dict[str, list[Path]]:
    """Five LFW identities with at least two photos each."""
    folder = shared_dir / "data" / "eval" / "lfw_pairs"
    by_person: dict[str, set[Path]] = {}
    with open(folder / "pairs.csv") as handle:
        for row in csv.DictReader(handle):
            if row["same"] in ("1", "True", "true"):
                by_person.setdefault(row["identity1"], set()).update({folder / row["path1"], folder / row["path2"]})
    chosen = sorted(name for name, photos in by_person.items() if len(photos) >= 2)[:5]
    return {name: sorted(by_person[name]) for name in chosen}


@pytest.fixture(scope="module")
def client(stack) -> tuple[Client, dict]:
    app = admin(stack, "create-app", "--name", "library-e2e")
    assert "library" in app["service_codes"]
    for api, calls in (("library", 12), ("compare", 4)):
        admin(stack, "grant", "--app", app["app_key"], "--api", api, "--calls", str(calls), "--days", "30")
    return Client(stack["base"], app["app_key"], app["app_secret"], app["service_codes"]), app


def _remaining(stack, app: dict, api: str) -> int:
    return admin(stack, "usage", "--app", app["app_key"])[api]["remaining"]


def test_enrol_search_compare_and_meter(stack, client, people):
    sdk, app = client
    names = list(people)
    # Group management is free.
    assert sdk.library("group/add", group_id="staff") == {"group_id": "staff"}
    assert "staff" in sdk.library("group/list")["group_id_list"]
    assert _remaining(stack, app, "library") == 12

    tokens = {}
    for name in names[:4]:  # four enrolled; names[4] stays a stranger
        result = sdk.library("user/add", group_id="staff", user_id=name.replace(" ", "_").replace("-", "_"),
                             user_info=name, imageContent=str(people[name][0]))
        tokens[name] = result["face_token"]
    assert _remaining(stack, app, "library") == 8  # one call per enrolled photo

    # Search with another photo of an enrolled person: that person first, above 0.5.
    hit = sdk.library("search", imageContent=str(people[names[0]][1]), group_id_list="staff")
    assert hit["user_list"] and hit["user_list"][0]["user_info"] == names[0]
    assert hit["user_list"][0]["score"] >= 0.5
    # A stranger is "unknown": no user above the app's operating point.
    stranger = sdk.library("search", imageContent=str(people[names[4]][0]), group_id_list="staff")
    assert stranger["user_list"] == []
    assert _remaining(stack, app, "library") == 6

    # Compare against a stored face: same person high, other person low.
    results = sdk.compare_pairs([(str(people[names[0]][1]), tokens[names[0]]),
                                 (str(people[names[1]][1]), tokens[names[2]]),
                                 ("no-such-token", tokens[names[0]])])
    assert results[0].similarity >= 0.5 and results[1].similarity < 0.5
    assert isinstance(results[2], FacegateError) and results[2].code == "4107"
    # Three pairs reserved; two charged (a missing token is not the image's fault), one released.
    assert _remaining(stack, app, "compare") == 2

    # Batch enrolment: one call per item that was enrolled or failed for its image.
    items = [{"group_id": "staff", "user_id": f"batch_{i}", "imageContent": str(people[names[4]][0])}
             for i in range(2)] + [{"group_id": "nogroup", "user_id": "x", "imageContent": str(people[names[4]][0])}]
    with pytest.raises(QuotaError):  # the 7th search finds the pack empty: 4291
        for _ in range(7):
            sdk.library("search", imageContent=str(people[names[0]][1]), group_id_list="staff")
    assert _remaining(stack, app, "library") == 0
    admin(stack, "grant", "--app", app["app_key"], "--api", "library", "--calls", "3", "--days", "30")
    encoded = [{**item, "imageContent": sdk._encode(item["imageContent"])} for item in items]
    reply, _ = sdk.send("library", json.dumps({"items": encoded}).encode(), "user/batch_add")
    codes = [item["code"] for item in reply["result"]["items"]]
    assert codes[:2] == ["0", "0"] and codes[2] != "0"
    assert _remaining(stack, app, "library") == 1


def _app_with_library(stack, name: str, calls: int) -> tuple[Client, dict]:
    app = admin(stack, "create-app", "--name", name)
    admin(stack, "grant", "--app", app["app_key"], "--api", "library", "--calls", str(calls), "--days", "30")
    return Client(stack["base"], app["app_key"], app["app_secret"], app["service_codes"]), app


def _admin_with_backend(stack, *args: str) -> dict:
    """`facegate admin` for commands that ask the backend (library settings), told where it runs."""
    return admin_json({**stack["env"], "FACEGATE_BACKEND_URLS": stack["backend"]}, *args, timeout=60)


def test_operating_point_through_the_gateway(stack, shared_dir):
    """The app picks its point with a free signed call; the operator sets the face limit."""
    sdk, app = _app_with_library(stack, "library-op", 3)
    folder = shared_dir / "data" / "eval" / "lfw_pairs" / "images" / "Drew_Barrymore"
    # A genuine pair with cosine 0.439: between the FAR 1e-3 (0.369) and 1e-5 (0.482) points.
    enrol, probe = str(folder / "Drew_Barrymore_0001.jpg"), str(folder / "Drew_Barrymore_0002.jpg")
    sdk.library("group/add", group_id="g")
    sdk.library("user/add", group_id="g", user_id="drew", imageContent=enrol)

    assert sdk.library("app/settings")["operating_point"] == "1e-4"
    assert sdk.library("app/settings", operating_point="1e-3")["operating_point"] == "1e-3"
    assert [u["user_id"] for u in sdk.library("search", imageContent=probe, group_id_list="g")["user_list"]] == ["drew"]
    strict = sdk.library("app/settings", operating_point="1e-5")
    assert strict["operating_point"] == "1e-5" and strict["threshold_score"] > 0.5
    assert sdk.library("search", imageContent=probe, group_id_list="g")["user_list"] == []
    assert _remaining(stack, app, "library") == 0  # enrolment and two searches; settings were free

    # The face limit is the operator's: refused from the app, set with the admin command.
    with pytest.raises(FacegateError) as refused:
        sdk.library("app/settings", face_limit=10**9)
    assert refused.value.code == "4102"
    with pytest.raises(FacegateError) as bad_point:
        sdk.library("app/settings", operating_point="1e-9")
    assert bad_point.value.code == "4102"
    shown = _admin_with_backend(stack, "library-settings", app["app_key"], "--face-limit", "1", "--store-photos")
    assert shown["face_limit"] == 1 and shown["store_photos"] is True and shown["operating_point"] == "1e-5"
    assert shown["face_num"] == 1
    assert (shown["older_face_num"], shown["older_face_num_with_photo"]) == (0, 0)  # enrolled with today's models
    assert sdk.library("app/settings")["face_limit"] == 1


def test_deleted_app_loses_its_library_even_when_the_backend_was_down(stack, people):
    sdk, app = _app_with_library(stack, "library-del", 2)
    sdk.library("app/settings", store_photos=True)
    sdk.library("group/add", group_id="g")
    for name in list(people)[:2]:
        sdk.library("user/add", group_id="g", user_id=name.replace("-", "_"), imageContent=str(people[name][0]))
    store = stack["data"] / "library" / "default" / "library.sqlite3"

    def stored(table: str) -> int:
        with sqlite3.connect(store) as db:
            return db.execute(f"SELECT COUNT(*) FROM {table} WHERE app_id = ?", (str(app["app_id"]),)).fetchone()[0]

    assert stored("faces") == 2
    # The backend is unreachable when the app is deleted: the app is gone at once, its library waits
    # for the next housekeeping run ("retrying": the first attempt failed).
    down = admin_json({**stack["env"], "FACEGATE_BACKEND_URLS": f"http://127.0.0.1:{free_port()}"},
                      "apps", "delete", app["app_key"], timeout=60)
    assert down["status"] == "deleted" and down["library_purge"] == "retrying"
    with pytest.raises(FacegateError) as refused:
        sdk.library("group/list")
    assert refused.value.code == "4002"
    # Celery beat retries against the real backend: faces, photos, users, groups and settings go.
    deadline = time.monotonic() + 60
    while stored("faces") and time.monotonic() < deadline:
        time.sleep(1)
    assert [stored(t) for t in ("faces", "users", "groups", "apps")] == [0, 0, 0, 0]
    with pytest.raises(RuntimeError, match="cannot be enabled"):
        admin(stack, "apps", "enable", app["app_key"])
