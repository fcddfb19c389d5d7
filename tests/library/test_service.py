"""The library operations on real photos through Library.handle (JSON body in, wire reply out)."""
from __future__ import annotations

import base64
import json

import pytest

from facegate import errors
from face_backend.library.service import OPERATING_POINTS, Library

APP, OTHER_APP = "app_a", "app_b"


@pytest.fixture(scope="module")
def lib(tmp_path_factory, engine):
    library = Library(tmp_path_factory.mktemp("library"), engine, default_face_limit=50)
    yield library
    library.close()


def call(lib: Library, op: str, app: str = APP, **body) -> dict:
    return lib.handle(app, op, json.dumps(body).encode(), "req-1")


def ok(reply: dict) -> dict:
    assert reply["code"] == errors.SUCCESS, reply
    return reply["result"]


@pytest.fixture(scope="module")
def enrolled(lib, lfw):
    ok(call(lib, "group/add", group_id="staff"))
    tokens = {}
    for photo in lfw["enrol"]:
        result = ok(call(lib, "user/add", group_id="staff", user_id=photo.identity, user_info=f"info {photo.identity}",
                         imageContent=photo.b64()))
        assert len(result["face_token"]) == 32 and result["face_location"]["width"] > 40
        tokens[photo.identity] = result["face_token"]
    return tokens


def test_groups(lib, enrolled):
    ok(call(lib, "group/add", group_id="visitors"))
    assert call(lib, "group/add", group_id="visitors")["code"] == errors.LIBRARY_EXISTS
    assert ok(call(lib, "group/list"))["group_id_list"] == ["staff", "visitors"]
    assert ok(call(lib, "group/list", start=1, length=5))["group_id_list"] == ["visitors"]
    assert ok(call(lib, "group/list", app=OTHER_APP))["group_id_list"] == []
    assert ok(call(lib, "group/delete", group_id="visitors")) == {"group_id": "visitors", "face_num": 0}
    assert call(lib, "group/delete", group_id="visitors")["code"] == errors.LIBRARY_NOT_FOUND


def test_search_names_the_person_and_strangers_are_unknown(lib, enrolled, lfw):
    # Users are listed only at or above the app's operating point (FAR 1e-4 by default).
    floor = ok(call(lib, "app/settings"))["threshold_score"]
    assert floor == round(lib.engine.recognizer.score(OPERATING_POINTS["default"]["1e-4"]), 4) and floor > 0.5
    for photo in lfw["probe"]:
        result = ok(call(lib, "search", imageContent=photo.b64(), group_id_list="staff", max_user_num=3))
        assert result["user_list"], f"{photo.identity} not recognised"
        top = result["user_list"][0]
        assert top["user_id"] == photo.identity and top["group_id"] == "staff"
        assert top["user_info"] == f"info {photo.identity}"
        assert all(u["score"] >= floor for u in result["user_list"])
        assert len(result["face_token"]) == 32
    for photo in lfw["stranger"]:
        result = ok(call(lib, "search", imageContent=photo.b64(), group_id_list="staff", max_user_num=5))
        assert result["user_list"] == [], f"stranger {photo.identity} matched {result['user_list']}"


def test_other_apps_see_nothing(lib, enrolled, lfw):
    photo = lfw["probe"][0]
    assert call(lib, "search", app=OTHER_APP, imageContent=photo.b64(), group_id_list="staff")["code"] == errors.LIBRARY_NOT_FOUND
    ok(call(lib, "group/add", app=OTHER_APP, group_id="staff"))
    assert ok(call(lib, "search", app=OTHER_APP, imageContent=photo.b64(), group_id_list="staff"))["user_list"] == []
    token = enrolled[lfw["enrol"][0].identity]
    assert call(lib, "face/delete", app=OTHER_APP, face_token=token)["code"] == errors.LIBRARY_NOT_FOUND


def test_users_and_faces(lib, enrolled, lfw):
    ok(call(lib, "group/add", group_id="pairs"))
    first, second = lfw["enrol"][4], lfw["probe"][4]
    t1 = ok(call(lib, "user/add", group_id="pairs", user_id="u1", user_info="old", imageContent=first.b64()))["face_token"]
    t2 = ok(call(lib, "user/add", group_id="pairs", user_id="u1", user_info="new", imageContent=second.b64()))["face_token"]
    user = ok(call(lib, "user/get", group_id="pairs", user_id="u1"))
    assert user["user_info"] == "new" and [f["face_token"] for f in user["face_list"]] == [t1, t2]
    ok(call(lib, "face/delete", face_token=t1))
    assert [f["face_token"] for f in ok(call(lib, "user/get", group_id="pairs", user_id="u1"))["face_list"]] == [t2]
    found = ok(call(lib, "search", imageContent=first.b64(), group_id_list="pairs,staff", max_user_num=5))["user_list"]
    assert [(u["group_id"], u["user_id"]) for u in found][:2] in ([("pairs", "u1"), ("staff", first.identity)],
                                                                  [("staff", first.identity), ("pairs", "u1")])
    assert ok(call(lib, "user/delete", group_id="pairs", user_id="u1"))["face_num"] == 1
    assert call(lib, "user/get", group_id="pairs", user_id="u1")["code"] == errors.LIBRARY_NOT_FOUND
    found = ok(call(lib, "search", imageContent=second.b64(), group_id_list="pairs"))["user_list"]
    assert found == []


def test_multi_search_answers_every_face(lib, enrolled, shared_dir):
    photo = (shared_dir / "data" / "photos" / "011_3.jpg").read_bytes()
    b64 = base64.b64encode(photo).decode()
    ok(call(lib, "group/add", group_id="crowd"))
    ok(call(lib, "user/add", group_id="crowd", user_id="largest", imageContent=b64))
    result = ok(call(lib, "multi_search", imageContent=b64, group_id_list="crowd"))
    assert result["face_num"] == 3
    matched = [f["user_list"][0]["user_id"] for f in result["face_list"] if f["user_list"]]
    assert matched == ["largest"] and result["face_list"][0]["user_list"][0]["score"] > 0.99
    assert ok(call(lib, "multi_search", imageContent=b64, group_id_list="crowd", max_face_num=1))["face_num"] == 1


def test_batch_add_has_per_item_codes(lib, enrolled, lfw, shared_dir):
    ok(call(lib, "group/add", group_id="batch"))
    blank = base64.b64encode((shared_dir / "data" / "bad-and-odd-images" / "corrupted.png").read_bytes()).decode()
    items = [{"group_id": "batch", "user_id": "a", "imageContent": lfw["enrol"][5].b64()},
             {"group_id": "batch", "user_id": "b", "imageContent": blank},
             {"group_id": "nope", "user_id": "c", "imageContent": lfw["enrol"][6].b64()},
             {"group_id": "batch", "user_id": "bad id!", "imageContent": lfw["enrol"][6].b64()},
             "not an object"]
    codes = [item["code"] for item in ok(call(lib, "user/batch_add", items=items))["items"]]
    assert codes == [errors.SUCCESS, errors.IMAGE_UNDECODABLE, errors.LIBRARY_NOT_FOUND, errors.BAD_BODY, errors.BAD_BODY]
    assert call(lib, "user/batch_add", items=[items[0]] * 101)["code"] == errors.BAD_BODY
    assert call(lib, "user/batch_add", items=[])["code"] == errors.BAD_BODY


def test_face_limit_has_its_own_code(lib, enrolled, lfw):
    app = "small_app"
    settings = ok(call(lib, "app/settings", app=app, face_limit=1, store_photos=True))
    assert settings["face_limit"] == 1 and settings["operating_point"] == "1e-4" and settings["face_num"] == 0
    ok(call(lib, "group/add", app=app, group_id="g"))
    token = ok(call(lib, "user/add", app=app, group_id="g", user_id="u", imageContent=lfw["enrol"][7].b64()))["face_token"]
    assert lib.store.photo_of(app, token) == lfw["enrol"][7].path.read_bytes()
    full = call(lib, "user/add", app=app, group_id="g", user_id="v", imageContent=lfw["probe"][7].b64())
    assert full["code"] == errors.FACE_LIMIT_REACHED and "limit is 1" in full["details"]
    assert ok(call(lib, "app/delete", app=app)) == {"face_num": 1}
    assert lib.store.photo_of(app, token) is None
    assert ok(call(lib, "app/settings", app=app))["face_limit"] == 50  # back to the default


@pytest.mark.parametrize("op, body, code", [
    ("search", {"group_id_list": "staff"}, errors.IMAGE_MISSING),
    ("search", {"imageContent": "", "group_id_list": "staff"}, errors.IMAGE_MISSING),
    ("search", {"imageContent": "aGVsbG8=", "group_id_list": "staff"}, errors.IMAGE_UNDECODABLE),
    ("search", {"imageContent": 5, "group_id_list": "staff"}, errors.BAD_BODY),
    ("search", {"imageContent": "aGVsbG8=", "group_id_list": ",".join(f"g{i}" for i in range(11))}, errors.BAD_BODY),
    ("search", {"imageContent": "aGVsbG8=", "group_id_list": "staff", "max_user_num": 0}, errors.BAD_BODY),
    ("search", {"imageContent": "aGVsbG8=", "group_id_list": "staff", "max_user_num": True}, errors.BAD_BODY),
    ("group/add", {"group_id": "a b"}, errors.BAD_BODY),
    ("group/add", {"group_id": "x" * 129}, errors.BAD_BODY),
    ("group/add", {}, errors.IMAGE_MISSING),
    ("user/add", {"group_id": "staff", "user_id": "u", "user_info": "x" * 257, "imageContent": "aGVsbG8="}, errors.BAD_BODY),
    ("face/delete", {"face_token": "../etc"}, errors.BAD_BODY),
    ("app/settings", {"operating_point": "1e-9"}, errors.BAD_BODY),
    ("app/settings", {"face_limit": -1}, errors.BAD_BODY),
    ("nope", {}, errors.BAD_BODY),
])
def test_bad_bodies_get_their_codes(lib, enrolled, op, body, code):
    assert call(lib, op, **body)["code"] == code


def test_bad_json_and_app_ids(lib):
    assert lib.handle(APP, "group/list", b"[1]")["code"] == errors.BAD_BODY
    assert lib.handle(APP, "group/list", b"{")["code"] == errors.BAD_BODY
    assert lib.handle(APP, "group/list", b"[" * 100_000)["code"] == errors.BAD_BODY
    assert lib.handle("bad app", "group/list", b"{}")["code"] == errors.BAD_BODY
