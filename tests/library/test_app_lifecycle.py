"""An app's library over its life, on both stores (embedded index, milvus-lite): its operating point
decides a borderline search, and deleting the app leaves no vector, face, user, group or photo."""
from __future__ import annotations

import base64
import json

import pytest

from facegate import errors
from face_backend.library.service import Library
from face_backend.library.store import partition_key
from library_checks import assert_consistent, open_index

# A genuine LFW pair whose cosine (0.439 with the default pack) lies between the FAR 1e-3 point (0.369)
# and the 1e-5 point (0.482): the same person, found at 1e-3, "unknown" at 1e-5.
BORDERLINE = ("images/Drew_Barrymore/Drew_Barrymore_0001.jpg", "images/Drew_Barrymore/Drew_Barrymore_0002.jpg")


@pytest.fixture
def lib(tmp_path, engine, index_kind):
    library = Library(tmp_path, engine, index=open_index(index_kind, tmp_path))
    yield library
    library.close()


def call(lib: Library, app: str, op: str, **body) -> dict:
    reply = lib.handle(app, op, json.dumps(body).encode(), "req-life")
    assert reply["code"] == errors.SUCCESS, reply
    return reply["result"]


def b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_operating_point_decides_a_borderline_answer(lib, shared_dir):
    folder = shared_dir / "data" / "eval" / "lfw_pairs"
    enrol, probe = (b64(folder / p) for p in BORDERLINE)
    call(lib, "app_op", "group/add", group_id="g")
    call(lib, "app_op", "user/add", group_id="g", user_id="drew", imageContent=enrol)

    loose = call(lib, "app_op", "app/settings", operating_point="1e-3")
    found = call(lib, "app_op", "search", imageContent=probe, group_id_list="g")["user_list"]
    assert [u["user_id"] for u in found] == ["drew"] and found[0]["score"] >= loose["threshold_score"]

    strict = call(lib, "app_op", "app/settings", operating_point="1e-5")
    assert strict["threshold_cosine"] > loose["threshold_cosine"]
    assert call(lib, "app_op", "search", imageContent=probe, group_id_list="g")["user_list"] == []
    # The setting is the app's own: another app with the same face enrolled keeps the default point.
    assert call(lib, "other_app", "app/settings")["operating_point"] == "1e-4"


def test_app_delete_leaves_no_vectors_faces_or_photos(lib, lfw):
    for app in ("doomed", "kept"):
        call(lib, app, "app/settings", store_photos=True)
        for group in ("staff", "visitors"):
            call(lib, app, "group/add", group_id=group)
            for photo in lfw["enrol"][:2]:
                call(lib, app, "user/add", group_id=group, user_id=photo.identity.replace("-", "_"),
                     imageContent=photo.b64())
    parts = [partition_key("doomed", g) for g in ("staff", "visitors")]
    assert sum(lib.index.count(p) for p in parts) == 4

    assert call(lib, "doomed", "app/delete") == {"face_num": 4}
    assert all(lib.index.count(p) == 0 for p in parts)
    db = lib.store._db()
    for table in ("apps", "groups", "users", "faces"):
        assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE app_id = 'doomed'").fetchone()[0] == 0, table
    assert db.execute("SELECT COUNT(*) FROM faces WHERE photo IS NOT NULL").fetchone()[0] == 4  # the kept app's
    assert_consistent(lib.store, lib.index)
    # Deleting again is harmless (the gateway retries until it hears a success).
    assert call(lib, "doomed", "app/delete") == {"face_num": 0}
    probe = lfw["probe"][0]
    kept = call(lib, "kept", "search", imageContent=probe.b64(), group_id_list="staff")["user_list"]
    assert kept and kept[0]["user_id"] == probe.identity.replace("-", "_")
