"""group/getusers: the users of one group, in user id order, paged; scoped to the app; 4107 for a
group that does not exist. The console's library pages browse groups with it."""
from __future__ import annotations

import json

from facegate import errors
from face_backend.library.service import Library


def call(lib: Library, op: str, app: str = "app_a", **body) -> dict:
    return lib.handle(app, op, json.dumps(body).encode(), "req-users")


def test_a_groups_users_are_listed_in_order_and_paged(tmp_path, engine, lfw):
    lib = Library(tmp_path, engine)
    try:
        assert call(lib, "group/add", group_id="staff")["code"] == errors.SUCCESS
        assert call(lib, "group/getusers", group_id="staff")["result"] == {"user_id_list": []}
        people = sorted({photo.identity for photo in lfw["enrol"]})[:3]
        for photo in [p for p in lfw["enrol"] if p.identity in people]:
            assert call(lib, "user/add", group_id="staff", user_id=photo.identity, imageContent=photo.b64())["code"] == "0"
        assert call(lib, "group/getusers", group_id="staff")["result"]["user_id_list"] == people
        assert call(lib, "group/getusers", group_id="staff", start=1, length=1)["result"]["user_id_list"] == people[1:2]
        assert call(lib, "group/getusers", group_id="staff", app="app_b")["code"] == errors.LIBRARY_NOT_FOUND
        assert call(lib, "group/getusers", group_id="nobody")["code"] == errors.LIBRARY_NOT_FOUND
        assert call(lib, "group/getusers", group_id="bad id!")["code"] == errors.BAD_BODY
    finally:
        lib.close()
