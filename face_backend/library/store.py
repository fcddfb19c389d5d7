"""The face library's records in one SQLite file: apps, groups, users, faces and a change log.

The store is the source of truth; vector indexes are rebuilt or caught up from it (sync.py).
Every write runs in one `BEGIN IMMEDIATE` transaction that also appends to the change log
(`changes`: add/remove of a face id, or drop of a whole partition), so the log and the records never
disagree, and writers are serialised (the per-app face limit is checked inside the transaction).
Photos, when an app keeps them, live in the face's own row: deleting the row deletes the photo.
Each face also records the recipe its embedding was made with (FaceEngine.embedding_recipe; none for
faces enrolled before recipes were recorded), so faces that a model change left behind can be found
and, where the photo is kept, embedded again (reembed.py).
WAL journal with synchronous=NORMAL: a killed process loses nothing committed; a power cut may lose
the last transactions but never corrupts the file.
"""
from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from face_backend.vision.types import Face

APP_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    app_id TEXT PRIMARY KEY,
    face_limit INTEGER,
    operating_point TEXT,
    store_photos INTEGER NOT NULL DEFAULT 0,
    face_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS groups (
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE TABLE IF NOT EXISTS users (
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_info TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (app_id, group_id, user_id)
);
CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    face_token TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    embedding BLOB NOT NULL,
    face_location TEXT NOT NULL,
    created_at REAL NOT NULL,
    photo BLOB
);
CREATE INDEX IF NOT EXISTS faces_by_user ON faces (app_id, group_id, user_id);
-- The recipe each face's embedding was made with (reembed.py); no row: made before recipes were
-- recorded. A table of its own: a column added to faces would sit after the photo, and reading it
-- would read the photo too.
CREATE TABLE IF NOT EXISTS face_recipes (
    face_id INTEGER PRIMARY KEY REFERENCES faces (id) ON DELETE CASCADE,
    recipe TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL CHECK (op IN ('add', 'remove', 'drop')),
    partition TEXT NOT NULL,
    face_id INTEGER
);
-- The change number each index keeper (one per process) has persisted, for pruning the log.
CREATE TABLE IF NOT EXISTS readers (
    reader TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    seen_at REAL NOT NULL
);
-- pruned_through: the log holds no change at or below this number any more.
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class NotFound(Exception):
    """A group, user or face that does not exist (wire code 4107)."""


class AlreadyExists(Exception):
    """A group that already exists (wire code 4108)."""


class LimitReached(Exception):
    """The app's face limit would be exceeded (wire code 4106)."""


@dataclass(frozen=True)
class AppSettings:
    face_limit: int | None  # None: the library's default
    operating_point: str | None  # "1e-3", "1e-4", "1e-5"; None: the default
    store_photos: bool


@dataclass(frozen=True)
class FaceRecord:
    id: int
    face_token: str
    group_id: str
    user_id: str
    user_info: str


@dataclass(frozen=True)
class Change:
    seq: int
    op: str  # "add", "remove" or "drop"
    partition: str
    face_id: int | None
    embedding: bytes | None  # for "add", when the face still exists


def partition_key(app_id: str, group_id: str) -> str:
    """The index partition of one group of one app (both parts are validated identifiers)."""
    return f"{app_id}/{group_id}"


def face_location(face: Face) -> dict[str, int]:
    """A face's box as the library's replies and records give it."""
    x, y, w, h = face.box
    return {"top": int(y), "left": int(x), "width": int(w), "height": int(h)}


def new_face_token() -> str:
    return secrets.token_hex(16)


class LibraryStore:
    """Thread-safe access to the library's SQLite file (one connection per thread)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().executescript(SCHEMA)  # each statement is idempotent (IF NOT EXISTS)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    class _Tx:
        def __init__(self, db: sqlite3.Connection, mode: str) -> None:
            self.db, self.mode = db, mode

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute(f"BEGIN {self.mode}")
            return self.db

        def __exit__(self, exc_type, exc, tb) -> None:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")

    def _write(self) -> "_Tx":
        return self._Tx(self._db(), "IMMEDIATE")

    def _read(self) -> "_Tx":
        return self._Tx(self._db(), "DEFERRED")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- apps ------------------------------------------------------------------------------------
    @staticmethod
    def _ensure_app(db: sqlite3.Connection, app_id: str) -> None:
        db.execute("INSERT OR IGNORE INTO apps (app_id) VALUES (?)", (app_id,))

    def settings(self, app_id: str) -> AppSettings:
        row = self._db().execute("SELECT face_limit, operating_point, store_photos FROM apps WHERE app_id = ?",
                                 (app_id,)).fetchone()
        if row is None:
            return AppSettings(None, None, False)
        return AppSettings(row[0], row[1], bool(row[2]))

    def set_settings(self, app_id: str, settings: AppSettings) -> None:
        with self._write() as db:
            self._ensure_app(db, app_id)
            db.execute("UPDATE apps SET face_limit = ?, operating_point = ?, store_photos = ? WHERE app_id = ?",
                       (settings.face_limit, settings.operating_point, int(settings.store_photos), app_id))

    def face_count(self, app_id: str) -> int:
        row = self._db().execute("SELECT face_count FROM apps WHERE app_id = ?", (app_id,)).fetchone()
        return int(row[0]) if row else 0

    def delete_app(self, app_id: str) -> int:
        """Delete an app's groups, users, faces and photos; the number of faces deleted."""
        with self._write() as db:
            groups = [r[0] for r in db.execute("SELECT group_id FROM groups WHERE app_id = ?", (app_id,))]
            deleted = sum(self._drop_group(db, app_id, g) for g in groups)
            db.execute("DELETE FROM apps WHERE app_id = ?", (app_id,))
        return deleted

    # -- groups ----------------------------------------------------------------------------------
    def add_group(self, app_id: str, group_id: str) -> None:
        with self._write() as db:
            self._ensure_app(db, app_id)
            try:
                db.execute("INSERT INTO groups (app_id, group_id, created_at) VALUES (?, ?, ?)",
                           (app_id, group_id, time.time()))
            except sqlite3.IntegrityError:
                raise AlreadyExists(f"group {group_id} already exists") from None

    def delete_group(self, app_id: str, group_id: str) -> int:
        """Delete a group with its users and faces; the number of faces deleted."""
        with self._write() as db:
            self._require_group(db, app_id, group_id)
            return self._drop_group(db, app_id, group_id)

    @staticmethod
    def _drop_group(db: sqlite3.Connection, app_id: str, group_id: str) -> int:
        deleted = db.execute("DELETE FROM faces WHERE app_id = ? AND group_id = ?", (app_id, group_id)).rowcount
        db.execute("DELETE FROM users WHERE app_id = ? AND group_id = ?", (app_id, group_id))
        db.execute("DELETE FROM groups WHERE app_id = ? AND group_id = ?", (app_id, group_id))
        db.execute("UPDATE apps SET face_count = face_count - ? WHERE app_id = ?", (deleted, app_id))
        db.execute("INSERT INTO changes (op, partition) VALUES ('drop', ?)", (partition_key(app_id, group_id),))
        return deleted

    def list_groups(self, app_id: str, start: int = 0, length: int = 100) -> list[str]:
        rows = self._db().execute("SELECT group_id FROM groups WHERE app_id = ? ORDER BY group_id LIMIT ? OFFSET ?",
                                  (app_id, length, start))
        return [r[0] for r in rows]

    def list_users(self, app_id: str, group_id: str, start: int = 0, length: int = 100) -> list[str]:
        with self._read() as db:
            self._require_group(db, app_id, group_id)
            rows = db.execute("SELECT user_id FROM users WHERE app_id = ? AND group_id = ? ORDER BY user_id"
                              " LIMIT ? OFFSET ?", (app_id, group_id, length, start)).fetchall()
        return [r[0] for r in rows]

    def existing_groups(self, app_id: str, group_ids: list[str]) -> list[str]:
        marks = ",".join("?" * len(group_ids))
        rows = self._db().execute(f"SELECT group_id FROM groups WHERE app_id = ? AND group_id IN ({marks})",
                                  (app_id, *group_ids))
        return [r[0] for r in rows]

    @staticmethod
    def _require_group(db: sqlite3.Connection, app_id: str, group_id: str) -> None:
        if db.execute("SELECT 1 FROM groups WHERE app_id = ? AND group_id = ?", (app_id, group_id)).fetchone() is None:
            raise NotFound(f"group {group_id} not found")

    # -- users and faces -------------------------------------------------------------------------
    def add_face(self, app_id: str, group_id: str, user_id: str, user_info: str | None,
                 embedding: np.ndarray, face_location: str, photo: bytes | None,
                 default_limit: int, recipe: str | None = None) -> str:
        """Enrol one face for a user (created on first face); its new face_token.

        user_info replaces the user's stored info when given. LimitReached when the app holds
        its limit of faces already; NotFound when the group does not exist.
        """
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        with self._write() as db:
            self._ensure_app(db, app_id)
            self._require_group(db, app_id, group_id)
            limit, count = db.execute("SELECT face_limit, face_count FROM apps WHERE app_id = ?", (app_id,)).fetchone()
            limit = default_limit if limit is None else limit
            if count >= limit:
                raise LimitReached(f"the application holds {count} faces, its limit is {limit}")
            now = time.time()
            db.execute("INSERT OR IGNORE INTO users (app_id, group_id, user_id, user_info, created_at) VALUES (?, ?, ?, '', ?)",
                       (app_id, group_id, user_id, now))
            if user_info is not None:
                db.execute("UPDATE users SET user_info = ? WHERE app_id = ? AND group_id = ? AND user_id = ?",
                           (user_info, app_id, group_id, user_id))
            token = new_face_token()
            face_id = db.execute(
                "INSERT INTO faces (face_token, app_id, group_id, user_id, embedding, face_location, created_at, photo)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token, app_id, group_id, user_id, vector.tobytes(), face_location, now, photo)).lastrowid
            if recipe is not None:
                db.execute("INSERT INTO face_recipes (face_id, recipe) VALUES (?, ?)", (face_id, recipe))
            db.execute("UPDATE apps SET face_count = face_count + 1 WHERE app_id = ?", (app_id,))
            db.execute("INSERT INTO changes (op, partition, face_id) VALUES ('add', ?, ?)",
                       (partition_key(app_id, group_id), face_id))
        return token

    def get_user(self, app_id: str, group_id: str, user_id: str) -> dict:
        with self._read() as db:
            row = db.execute("SELECT user_info FROM users WHERE app_id = ? AND group_id = ? AND user_id = ?",
                             (app_id, group_id, user_id)).fetchone()
            if row is None:
                raise NotFound(f"user {user_id} not found in group {group_id}")
            faces = db.execute("SELECT face_token, created_at FROM faces WHERE app_id = ? AND group_id = ? AND user_id = ?"
                               " ORDER BY id", (app_id, group_id, user_id)).fetchall()
        return {"group_id": group_id, "user_id": user_id, "user_info": row[0],
                "face_list": [{"face_token": t, "ctime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(c))}
                              for t, c in faces]}

    def delete_user(self, app_id: str, group_id: str, user_id: str) -> int:
        with self._write() as db:
            if db.execute("DELETE FROM users WHERE app_id = ? AND group_id = ? AND user_id = ?",
                          (app_id, group_id, user_id)).rowcount == 0:
                raise NotFound(f"user {user_id} not found in group {group_id}")
            ids = [r[0] for r in db.execute("SELECT id FROM faces WHERE app_id = ? AND group_id = ? AND user_id = ?",
                                            (app_id, group_id, user_id))]
            self._remove_faces(db, app_id, group_id, ids)
        return len(ids)

    def delete_face(self, app_id: str, face_token: str) -> None:
        """Delete one face; the user goes too when it was the user's last face."""
        with self._write() as db:
            row = db.execute("SELECT id, group_id, user_id FROM faces WHERE app_id = ? AND face_token = ?",
                             (app_id, face_token)).fetchone()
            if row is None:
                raise NotFound(f"face {face_token} not found")
            face_id, group_id, user_id = row
            self._remove_faces(db, app_id, group_id, [face_id])
            if db.execute("SELECT 1 FROM faces WHERE app_id = ? AND group_id = ? AND user_id = ? LIMIT 1",
                          (app_id, group_id, user_id)).fetchone() is None:
                db.execute("DELETE FROM users WHERE app_id = ? AND group_id = ? AND user_id = ?",
                           (app_id, group_id, user_id))

    @staticmethod
    def _remove_faces(db: sqlite3.Connection, app_id: str, group_id: str, ids: list[int]) -> None:
        part = partition_key(app_id, group_id)
        for face_id in ids:
            db.execute("DELETE FROM faces WHERE id = ?", (face_id,))
            db.execute("INSERT INTO changes (op, partition, face_id) VALUES ('remove', ?, ?)", (part, face_id))
        db.execute("UPDATE apps SET face_count = face_count - ? WHERE app_id = ?", (len(ids), app_id))

    def face_records(self, app_id: str, ids: list[int]) -> dict[int, FaceRecord]:
        """The app's faces among ids (ids of other apps or deleted faces are left out)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            f"SELECT f.id, f.face_token, f.group_id, f.user_id, u.user_info FROM faces f"
            f" JOIN users u ON u.app_id = f.app_id AND u.group_id = f.group_id AND u.user_id = f.user_id"
            f" WHERE f.app_id = ? AND f.id IN ({marks})", (app_id, *ids))
        return {r[0]: FaceRecord(*r) for r in rows}

    def embedding_of(self, app_id: str, face_token: str) -> np.ndarray:
        row = self._db().execute("SELECT embedding FROM faces WHERE app_id = ? AND face_token = ?",
                                 (app_id, face_token)).fetchone()
        if row is None:
            raise NotFound(f"face {face_token} not found")
        return np.frombuffer(row[0], dtype=np.float32)

    def photo_of(self, app_id: str, face_token: str) -> bytes | None:
        row = self._db().execute("SELECT photo FROM faces WHERE app_id = ? AND face_token = ?",
                                 (app_id, face_token)).fetchone()
        return row[0] if row else None

    # -- embeddings of another recipe (reembed.py) ------------------------------------------------
    # typeof(photo) reads the row's header only; `photo IS NOT NULL` reads the photo's pages: over 200
    # faces with 2 MB photos, a count took 0.09 ms this way and 62 ms that way.
    def recipe_counts(self, recipe: str, app_id: str | None = None) -> dict[str, int]:
        """Faces (of one app, or all) by whether their embedding has `recipe`: "current", and the
        others split by whether a photo is kept ("with_photo": can be embedded again) or not."""
        row = self._db().execute(
            "SELECT COALESCE(SUM(r.recipe IS :recipe), 0),"
            " COALESCE(SUM(r.recipe IS NOT :recipe AND typeof(f.photo) <> 'null'), 0),"
            " COALESCE(SUM(r.recipe IS NOT :recipe AND typeof(f.photo) = 'null'), 0)"
            " FROM faces f LEFT JOIN face_recipes r ON r.face_id = f.id"
            + (" WHERE f.app_id = :app" if app_id else ""), {"recipe": recipe, "app": app_id}).fetchone()
        return {"current": int(row[0]), "with_photo": int(row[1]), "without_photo": int(row[2])}

    def faces_of_other_recipe(self, recipe: str, after_id: int = 0, limit: int = 100,
                              app_id: str | None = None) -> list[tuple[int, str]]:
        """(face id, face_location JSON) of kept-photo faces whose embedding is not of `recipe`, by
        id after `after_id`: a caller pages through them, and reads one photo at a time (photo_by_id)."""
        rows = self._db().execute(
            "SELECT f.id, f.face_location FROM faces f LEFT JOIN face_recipes r ON r.face_id = f.id"
            " WHERE r.recipe IS NOT :recipe AND typeof(f.photo) <> 'null' AND f.id > :after"
            + (" AND f.app_id = :app" if app_id else "") + " ORDER BY f.id LIMIT :limit",
            {"recipe": recipe, "after": after_id, "app": app_id, "limit": limit})
        return [(int(r[0]), r[1]) for r in rows]

    def has_app(self, app_id: str) -> bool:
        return self._db().execute("SELECT 1 FROM apps WHERE app_id = ?", (app_id,)).fetchone() is not None

    def photo_by_id(self, face_id: int) -> bytes | None:
        row = self._db().execute("SELECT photo FROM faces WHERE id = ?", (face_id,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def replace_embedding(self, face_id: int, embedding: np.ndarray, face_location: str, recipe: str) -> bool:
        """Give a face a new embedding (and the box it was made from), logged as an add, which every
        index applies as a replacement of the face's vector. False when the face is gone meanwhile."""
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        with self._write() as db:
            row = db.execute("SELECT app_id, group_id FROM faces WHERE id = ?", (face_id,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE faces SET embedding = ?, face_location = ? WHERE id = ?",
                       (vector.tobytes(), face_location, face_id))
            db.execute("INSERT INTO face_recipes (face_id, recipe) VALUES (?, ?) ON CONFLICT (face_id)"
                       " DO UPDATE SET recipe = excluded.recipe", (face_id, recipe))
            db.execute("INSERT INTO changes (op, partition, face_id) VALUES ('add', ?, ?)",
                       (partition_key(*row), face_id))
        return True

    # -- change log (sync.py) --------------------------------------------------------------------
    # The last change number ever given (AUTOINCREMENT's counter): MAX(seq) would fall back once
    # the log is pruned empty.
    _LAST_SEQ = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)"

    def last_seq(self) -> int:
        return int(self._db().execute(self._LAST_SEQ).fetchone()[0])

    def pruned_through(self) -> int:
        """Changes at or below this number are gone from the log: an index behind it must rebuild."""
        row = self._db().execute("SELECT value FROM meta WHERE key = 'pruned_through'").fetchone()
        return int(row[0]) if row else 0

    def heartbeat(self, reader: str, seq: int, now: float) -> None:
        """Record that `reader` (one process's index keeper) has persisted the changes up to `seq`."""
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO readers (reader, seq, seen_at) VALUES (?, ?, ?)", (reader, seq, now))

    def prune_changes(self, stale_after: float, now: float) -> int:
        """Delete the changes every reader seen within `stale_after` seconds has persisted; the number
        deleted. Readers not seen for longer are forgotten (a process that died, or sat idle): if
        one comes back behind the pruned point, its index rebuilds from the faces."""
        with self._write() as db:
            db.execute("DELETE FROM readers WHERE seen_at < ?", (now - stale_after,))
            horizon = db.execute("SELECT MIN(seq) FROM readers").fetchone()[0]
            if not horizon:
                return 0
            deleted = db.execute("DELETE FROM changes WHERE seq <= ?", (horizon,)).rowcount
            db.execute("INSERT INTO meta (key, value) VALUES ('pruned_through', ?) ON CONFLICT (key)"
                       " DO UPDATE SET value = MAX(value, excluded.value)", (horizon,))
            return deleted

    def change_count(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM changes").fetchone()[0])

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]:
        rows = self._db().execute(
            "SELECT c.seq, c.op, c.partition, c.face_id, CASE WHEN c.op = 'add' THEN f.embedding END"
            " FROM changes c LEFT JOIN faces f ON f.id = c.face_id WHERE c.seq > ? ORDER BY c.seq LIMIT ?",
            (seq, limit))
        return [Change(*r) for r in rows]

    def snapshot(self, consume: Callable[[list[tuple[str, int, bytes]]], None], batch: int = 10_000) -> int:
        """Feed every face as (partition, face id, embedding) batches to `consume`, all read in one
        transaction; the change seq that this state reflects."""
        with self._read() as db:
            seq = int(db.execute(self._LAST_SEQ).fetchone()[0])
            cursor = db.execute("SELECT app_id || '/' || group_id, id, embedding FROM faces ORDER BY app_id, group_id, id")
            while rows := cursor.fetchmany(batch):
                consume(rows)
        return seq

    def all_face_ids(self) -> dict[str, set[int]]:
        """Every face id by partition (consistency checks)."""
        out: dict[str, set[int]] = {}
        for part, face_id in self._db().execute("SELECT app_id || '/' || group_id, id FROM faces"):
            out.setdefault(part, set()).add(face_id)
        return out
