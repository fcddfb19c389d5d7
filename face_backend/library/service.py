"""The face library's operations: JSON body in, wire reply out (no HTTP here).

Operations (field names of the big cloud face libraries; every one is scoped to one app):
  group/add {group_id}                      -> {group_id}
  group/delete {group_id}                   -> {group_id, face_num}
  group/list {start?, length?}              -> {group_id_list}
  group/getusers {group_id, start?, length?} -> {user_id_list}
  user/add {group_id, user_id, user_info?, imageContent}  -> {face_token, face_location}
  user/get {group_id, user_id}              -> {group_id, user_id, user_info, face_list: [{face_token, ctime}]}
  user/delete {group_id, user_id}           -> {group_id, user_id, face_num}
  face/delete {face_token}                  -> {face_token}
  user/batch_add {items: [user/add bodies]} -> {items: [{code, result} | {code, message, details}]}
  search {imageContent, group_id_list "g1,g2", max_user_num?}
      -> {face_token, face_location, user_list: [{group_id, user_id, user_info, score}]}
  multi_search {imageContent, group_id_list, max_user_num?, max_face_num?}
      -> {face_num, face_list: [{face_token, face_location, user_list}]}
Administration:
  app/settings {face_limit?, operating_point?, store_photos?, older_faces?} -> the app's settings and
      face count; with older_faces: true also older_face_num(_with_photo), the faces embedded before a
      model upgrade (facegate library reembed)
      (a signed client call reaches it without face_limit, which only the operator sets)
  app/delete {}                             -> {face_num} (the gateway's purge of a deleted app only)

Scores are the compare API's calibrated similarity (>= 0.5 same person). A user is listed only
when its best face's cosine reaches the app's operating point (the cosine at which impostor pairs
are accepted at the chosen false accept rate); an empty user_list means "unknown".
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facegate import errors
from facegate.apis import ID_PATTERN, MAX_BATCH_ITEMS, MAX_GROUPS_PER_SEARCH, MAX_USER_INFO
from facegate.config import env_int
from facegate.errors import WireError
# The measured operating points (cosine per FAR, per pack) are shared with the console's FAR line.
from facegate.operating_points import DEFAULT_OPERATING_POINT, OPERATING_POINT_NAMES, OPERATING_POINTS
from face_backend.library.index import EmbeddedIndex, MilvusIndex, VectorIndex
from face_backend.library.store import (
    APP_PATTERN, AlreadyExists, AppSettings, LibraryStore, LimitReached, NotFound,
    face_location, new_face_token, partition_key,
)
from face_backend.library.sync import IndexSync
from face_backend.vision.engine import FaceEngine
from face_backend.vision.types import Face
from face_backend.wire_input import load_image_bytes

log = logging.getLogger("face_backend.library")

DEFAULT_FACE_LIMIT = 100_000  # faces per app unless app/settings says otherwise
EMBEDDING_DIMS = {"default": 128, "insightface": 512}
MAX_BATCH = MAX_BATCH_ITEMS
MAX_USER_NUM = 50
MAX_FACE_NUM = 10
OLDER_CACHE_APPS = 1024  # apps whose older-face counts are kept at once (the oldest entry goes first)


def _field(body: dict, name: str, required: bool = True) -> Any:
    value = body.get(name)
    if value is None and required:
        raise WireError(errors.IMAGE_MISSING, f"parameter {name} is missing")
    return value


def _identifier(body: dict, name: str) -> str:
    value = _field(body, name)
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise WireError(errors.BAD_BODY, f"{name} must be 1-128 letters, digits or underscores")
    return value


def _int(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WireError(errors.BAD_BODY, f"{name} must be an integer from {low} to {high}")
    return value


def _image(body: dict) -> tuple[bytes, np.ndarray]:
    text = _field(body, "imageContent")
    if not isinstance(text, str):
        raise WireError(errors.BAD_BODY, "parameter imageContent must be a base64 string")
    return load_image_bytes("imageContent", text)


class Library:
    """The library of one model pack: a store, a vector index kept in sync, and the engine."""

    def __init__(self, folder: Path | str, engine: FaceEngine, index: VectorIndex | None = None,
                 default_face_limit: int = DEFAULT_FACE_LIMIT) -> None:
        folder = Path(folder)
        self.engine = engine
        self.pack = engine.pack.name
        self.default_face_limit = default_face_limit
        self.store = LibraryStore(folder / "library.sqlite3")
        self.index = index if index is not None else EmbeddedIndex(folder / "index", EMBEDDING_DIMS[self.pack])
        self.sync = IndexSync(self.store, self.index)
        self.sync.open()
        # app/settings' older-face counts by app: (change seq they reflect, counts); see _older_faces.
        self._older_cache: dict[str, tuple[int, tuple[int, int]]] = {}
        self._older_lock = threading.Lock()
        self._ops: dict[str, Callable[[str, dict], Any]] = {
            "group/add": self.group_add, "group/delete": self.group_delete, "group/list": self.group_list,
            "group/getusers": self.group_getusers,
            "user/add": self.user_add, "user/get": self.user_get, "user/delete": self.user_delete,
            "face/delete": self.face_delete, "user/batch_add": self.user_batch_add,
            "search": self.search, "multi_search": self.multi_search,
            "app/settings": self.app_settings, "app/delete": self.app_delete,
        }

    def close(self) -> None:
        self.sync.close()
        self.store.close()

    # -- entry point -----------------------------------------------------------------------------
    def handle(self, app_id: str, op: str, body: bytes, request_id: str = "") -> dict:
        """The wire reply for one library request of an app."""
        try:
            if not APP_PATTERN.match(app_id or ""):
                raise WireError(errors.BAD_BODY, "invalid application id")
            action = self._ops.get(op)
            if action is None:
                raise WireError(errors.BAD_BODY, f"unknown library operation {op!r}")
            return errors.success(action(app_id, _json_object(body)))
        except WireError as exc:
            return exc.reply()
        except Exception:
            log.exception("internal error, request id %s, library %s", request_id, op)
            return errors.error(errors.INTERNAL, f"internal error, request id {request_id}")

    def _guarded(self, action: Callable[[], Any]) -> Any:
        """Run a store operation, mapping its exceptions to wire codes, then sync the index."""
        try:
            return action()
        except NotFound as exc:
            raise WireError(errors.LIBRARY_NOT_FOUND, str(exc)) from None
        except AlreadyExists as exc:
            raise WireError(errors.LIBRARY_EXISTS, str(exc)) from None
        except LimitReached as exc:
            raise WireError(errors.FACE_LIMIT_REACHED, str(exc)) from None
        finally:
            self.sync.catch_up()

    # -- groups ----------------------------------------------------------------------------------
    def group_add(self, app_id: str, body: dict) -> dict:
        group_id = _identifier(body, "group_id")
        self._guarded(lambda: self.store.add_group(app_id, group_id))
        return {"group_id": group_id}

    def group_delete(self, app_id: str, body: dict) -> dict:
        group_id = _identifier(body, "group_id")
        return {"group_id": group_id, "face_num": self._guarded(lambda: self.store.delete_group(app_id, group_id))}

    def group_list(self, app_id: str, body: dict) -> dict:
        start = _int(body, "start", 0, 0, 10**9)
        length = _int(body, "length", 100, 1, 1000)
        return {"group_id_list": self.store.list_groups(app_id, start, length)}

    def group_getusers(self, app_id: str, body: dict) -> dict:
        group_id = _identifier(body, "group_id")
        start = _int(body, "start", 0, 0, 10**9)
        length = _int(body, "length", 100, 1, 1000)
        return {"user_id_list": self._guarded(lambda: self.store.list_users(app_id, group_id, start, length))}

    # -- users and faces -------------------------------------------------------------------------
    def user_add(self, app_id: str, body: dict) -> dict:
        group_id, user_id = _identifier(body, "group_id"), _identifier(body, "user_id")
        user_info = body.get("user_info")
        if user_info is not None and (not isinstance(user_info, str) or len(user_info) > MAX_USER_INFO):
            raise WireError(errors.BAD_BODY, f"user_info must be a string of at most {MAX_USER_INFO} characters")
        raw, img = _image(body)
        faces = self.engine.detect(img)
        if not faces:
            raise WireError(errors.NO_FACE, "no face found")
        face = faces[0]  # the largest
        embedding = self.engine.embed(img, face)
        location = face_location(face)
        photo = raw if self.store.settings(app_id).store_photos else None
        token = self._guarded(lambda: self.store.add_face(app_id, group_id, user_id, user_info, embedding,
                                                          json.dumps(location), photo, self.default_face_limit,
                                                          self.engine.embedding_recipe))
        return {"face_token": token, "face_location": location}

    def user_get(self, app_id: str, body: dict) -> dict:
        group_id, user_id = _identifier(body, "group_id"), _identifier(body, "user_id")
        return self._guarded(lambda: self.store.get_user(app_id, group_id, user_id))

    def user_delete(self, app_id: str, body: dict) -> dict:
        group_id, user_id = _identifier(body, "group_id"), _identifier(body, "user_id")
        deleted = self._guarded(lambda: self.store.delete_user(app_id, group_id, user_id))
        return {"group_id": group_id, "user_id": user_id, "face_num": deleted}

    def face_delete(self, app_id: str, body: dict) -> dict:
        token = _field(body, "face_token")
        if not isinstance(token, str) or not ID_PATTERN.match(token):
            raise WireError(errors.BAD_BODY, "face_token must be a string of letters and digits")
        self._guarded(lambda: self.store.delete_face(app_id, token))
        return {"face_token": token}

    def user_batch_add(self, app_id: str, body: dict) -> dict:
        items = _field(body, "items")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise WireError(errors.BAD_BODY, f"items must be a list of 1 to {MAX_BATCH} user/add bodies")
        out = []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise WireError(errors.BAD_BODY, "each item must be a JSON object")
                out.append(errors.success(self.user_add(app_id, item)))
            except WireError as exc:
                out.append(exc.reply())
        return {"items": out}

    # -- search ----------------------------------------------------------------------------------
    def threshold(self, app_id: str) -> float:
        """The app's operating point as a cosine similarity."""
        return self._cosine(self.store.settings(app_id).operating_point or DEFAULT_OPERATING_POINT)

    def _cosine(self, point: str) -> float:
        measured = OPERATING_POINTS.get(self.pack)
        return measured[point] if measured else self.engine.recognizer.threshold

    def _groups(self, app_id: str, body: dict) -> list[str]:
        value = _field(body, "group_id_list")
        names = value.split(",") if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise WireError(errors.BAD_BODY, "group_id_list must be a string \"g1,g2\"")
        names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        if not 1 <= len(names) <= MAX_GROUPS_PER_SEARCH or not all(ID_PATTERN.match(n) for n in names):
            raise WireError(errors.BAD_BODY, f"group_id_list must name 1 to {MAX_GROUPS_PER_SEARCH} group ids")
        missing = sorted(set(names) - set(self.store.existing_groups(app_id, names)))
        if missing:
            raise WireError(errors.LIBRARY_NOT_FOUND, f"group {missing[0]} not found")
        return names

    def _match(self, app_id: str, groups: list[str], vector: np.ndarray, max_users: int) -> list[dict]:
        """The best users above the app's operating point, best first, one entry per user."""
        threshold = self.threshold(app_id)
        # A user may hold several faces: ask for more hits than users so duplicates do not crowd
        # out other users.
        hits = self.index.search(vector, max_users * 4 + 8, [partition_key(app_id, g) for g in groups])
        hits = [(face_id, cos) for face_id, cos in hits if cos >= threshold]
        records = self.store.face_records(app_id, [face_id for face_id, _ in hits])
        users: dict[tuple[str, str], dict] = {}
        for face_id, cos in hits:
            rec = records.get(face_id)
            if rec is None or (rec.group_id, rec.user_id) in users:
                continue
            users[(rec.group_id, rec.user_id)] = {"group_id": rec.group_id, "user_id": rec.user_id,
                                                  "user_info": rec.user_info,
                                                  "score": round(self.engine.recognizer.score(cos), 4)}
        return sorted(users.values(), key=lambda u: -u["score"])[:max_users]

    def search(self, app_id: str, body: dict) -> dict:
        groups = self._groups(app_id, body)
        max_users = _int(body, "max_user_num", 1, 1, MAX_USER_NUM)
        _, img = _image(body)
        faces = self.engine.detect(img)
        if not faces:
            raise WireError(errors.NO_FACE, "no face found")
        self.sync.catch_up()
        return self._probe(app_id, groups, img, faces[0], max_users)

    def multi_search(self, app_id: str, body: dict) -> dict:
        groups = self._groups(app_id, body)
        max_users = _int(body, "max_user_num", 1, 1, MAX_USER_NUM)
        max_faces = _int(body, "max_face_num", MAX_FACE_NUM, 1, MAX_FACE_NUM)
        _, img = _image(body)
        faces = self.engine.detect(img)[:max_faces]
        if not faces:
            raise WireError(errors.NO_FACE, "no face found")
        self.sync.catch_up()
        found = [self._probe(app_id, groups, img, face, max_users) for face in faces]
        return {"face_num": len(found), "face_list": found}

    def _probe(self, app_id: str, groups: list[str], img: np.ndarray, face: Face, max_users: int) -> dict:
        # The probe's face_token names this face in this reply only; it is not enrolled.
        vector = self.engine.embed(img, face)
        return {"face_token": new_face_token(), "face_location": face_location(face),
                "user_list": self._match(app_id, groups, vector, max_users)}

    # -- administration --------------------------------------------------------------------------
    def app_settings(self, app_id: str, body: dict) -> dict:
        current = self.store.settings(app_id)
        point = body.get("operating_point", current.operating_point)
        if point is not None and point not in OPERATING_POINT_NAMES:
            raise WireError(errors.BAD_BODY, f"operating_point must be one of {', '.join(OPERATING_POINT_NAMES)}")
        limit = body.get("face_limit", current.face_limit)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise WireError(errors.BAD_BODY, "face_limit must be a non-negative integer")
        photos = body.get("store_photos", current.store_photos)
        if not isinstance(photos, bool):
            raise WireError(errors.BAD_BODY, "store_photos must be true or false")
        updated = AppSettings(limit, point, photos)
        if updated != current:
            self.store.set_settings(app_id, updated)
        older = body.get("older_faces", False)
        if not isinstance(older, bool):
            raise WireError(errors.BAD_BODY, "older_faces must be true or false")
        point = updated.operating_point or DEFAULT_OPERATING_POINT
        reply = {"face_limit": self.default_face_limit if limit is None else limit, "operating_point": point,
                 "threshold_cosine": self._cosine(point),
                 "threshold_score": round(self.engine.recognizer.score(self._cosine(point)), 4),
                 "store_photos": photos, "face_num": self.store.face_count(app_id)}
        if older:
            with_photo, without_photo = self._older_faces(app_id)
            reply.update(older_face_num=with_photo + without_photo, older_face_num_with_photo=with_photo)
        return reply

    def _older_faces(self, app_id: str) -> tuple[int, int]:
        """(with a kept photo, without) of the app's faces embedded with an older recipe (before a model
        upgrade). Counting visits every face of the app (160 ms for 100,000), so only a caller that
        asks pays, and the answer is kept until the library's change log moves: every enrolment,
        deletion and re-embedding is logged, and a photo never changes otherwise."""
        seq = self.store.last_seq()
        with self._older_lock:
            cached = self._older_cache.get(app_id)
            if cached is not None and cached[0] == seq:
                return cached[1]
        counts = self.store.recipe_counts(self.engine.embedding_recipe, app_id)
        answer = (counts["with_photo"], counts["without_photo"])
        with self._older_lock:
            if len(self._older_cache) >= OLDER_CACHE_APPS:
                self._older_cache.pop(next(iter(self._older_cache)))
            self._older_cache[app_id] = (seq, answer)
        return answer

    def app_delete(self, app_id: str, body: dict) -> dict:
        return {"face_num": self._guarded(lambda: self.store.delete_app(app_id))}


def _json_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WireError(errors.BAD_BODY, "body is not valid JSON") from None
    except RecursionError:
        raise WireError(errors.BAD_BODY, "body is nested too deeply") from None
    if not isinstance(data, dict):
        raise WireError(errors.BAD_BODY, "body must be a JSON object")
    return data


def library_folder(data_dir: Path, pack: str) -> Path:
    """Where one pack's library lives in the data dir (its store file and its embedded index)."""
    return data_dir / "library" / pack


_LIBRARIES: dict[str, Library] = {}
_LIBRARIES_LOCK = threading.Lock()


def get_library(engine: FaceEngine, data_dir: Path) -> Library:
    """The process-wide library of the engine's pack, opened once (like the engine's models).

    Default face limit per app: FACEGATE_LIBRARY_FACE_LIMIT (100,000). Index: FACEGATE_MILVUS_URI (a Milvus server "http://host:19530" or a milvus-lite file path)
    when set, else the embedded index in the data dir.
    """
    with _LIBRARIES_LOCK:
        pack = engine.pack.name
        if pack not in _LIBRARIES:
            folder = library_folder(data_dir, pack)
            uri = os.environ.get("FACEGATE_MILVUS_URI", "").strip()
            index = (MilvusIndex(uri, EMBEDDING_DIMS[pack], collection=f"facegate_faces_{pack}",
                                 token=os.environ.get("FACEGATE_MILVUS_TOKEN", "")) if uri else None)
            limit = env_int("FACEGATE_LIBRARY_FACE_LIMIT", DEFAULT_FACE_LIMIT)
            _LIBRARIES[pack] = Library(folder, engine, index, default_face_limit=limit)
            # Persist the embedded index on a clean exit; after a crash the store's log replays.
            atexit.register(_LIBRARIES[pack].sync.close)
        return _LIBRARIES[pack]
