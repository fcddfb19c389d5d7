"""The face library end to end: `facegate serve` on loopback, signed calls through the SDK, real
LFW photos. Enrol, search, compare against a stored face, batch compare and batch enrolment, with
the ledger checked per pair and per item, and free group management."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from facegate.client import Client, FacegateError, QuotaError
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
