"""The store and both index kinds with real embeddings of real photos: search, visibility of adds
and deletes, no orphan vectors or photos after deleting a face, user, group or app, persistence."""
from __future__ import annotations

import json

import numpy as np
import pytest

from face_backend.library import index as index_module
from face_backend.library.store import LibraryStore, partition_key
from face_backend.library.sync import IndexSync
from library_checks import assert_consistent, open_index

APP = "app_a"


@pytest.fixture
def library(tmp_path, index_kind, lfw, embed):
    """A store with two groups: "staff" (the enrolled photos, photos kept) and "guests" (strangers)."""
    store = LibraryStore(tmp_path / "library.sqlite3")
    index = open_index(index_kind, tmp_path)
    sync = IndexSync(store, index)
    sync.open()
    store.add_group(APP, "staff")
    store.add_group(APP, "guests")
    tokens = {}
    for photo in lfw["enrol"]:
        tokens[photo.identity] = store.add_face(APP, "staff", photo.identity, f"info {photo.identity}",
                                                embed(photo), "{}", photo.path.read_bytes(), 1000)
    for photo in lfw["stranger"]:
        store.add_face(APP, "guests", photo.identity, None, embed(photo), "{}", None, 1000)
    sync.catch_up()
    yield store, index, sync, tokens
    sync.close()
    store.close()


def best(store, index, vector, groups=("staff",)):
    hits = index.search(vector, 3, [partition_key(APP, g) for g in groups])
    records = store.face_records(APP, [face_id for face_id, _ in hits])
    return [(records[face_id].user_id, cos) for face_id, cos in hits]


def test_other_photo_finds_its_person_first(library, lfw, embed):
    store, index, _, _ = library
    assert_consistent(store, index)
    for photo in lfw["probe"]:
        found = best(store, index, embed(photo))
        assert found[0][0] == photo.identity, (photo.identity, found)
        assert found[0][1] > found[1][1]
    # A search is confined to the groups it names.
    stranger = lfw["stranger"][0]
    assert best(store, index, embed(stranger), ("guests",))[0] == (stranger.identity, pytest.approx(1.0, abs=1e-5))
    assert stranger.identity not in [u for u, _ in best(store, index, embed(stranger), ("staff",))]


def test_deletes_leave_no_orphans_and_are_visible_at_once(library, lfw, embed):
    store, index, sync, tokens = library
    first, second = lfw["enrol"][0], lfw["enrol"][1]
    # face/delete
    store.delete_face(APP, tokens[first.identity])
    sync.catch_up()
    assert first.identity not in [u for u, _ in best(store, index, embed(first))]
    assert store.photo_of(APP, tokens[first.identity]) is None
    # user/delete: every face of the user goes, with its photos
    extra = store.add_face(APP, "staff", second.identity, None, embed(lfw["probe"][1]), "{}", b"photo", 1000)
    sync.catch_up()
    assert store.delete_user(APP, "staff", second.identity) == 2
    sync.catch_up()
    assert second.identity not in [u for u, _ in best(store, index, embed(second))]
    assert store.photo_of(APP, extra) is None
    assert_consistent(store, index)
    # group/delete, then app delete
    assert store.delete_group(APP, "guests") == len(lfw["stranger"])
    sync.catch_up()
    assert index.count(partition_key(APP, "guests")) == 0
    assert_consistent(store, index)
    store.delete_app(APP)
    sync.catch_up()
    assert index.count() == 0 and store.all_face_ids() == {} and store.face_count(APP) == 0
    rows = store._db().execute("SELECT (SELECT count(*) FROM faces) + (SELECT count(*) FROM users)"
                               " + (SELECT count(*) FROM groups)").fetchone()[0]
    assert rows == 0


def test_adds_are_visible_at_once(library, lfw, embed):
    store, index, sync, _ = library
    probe = lfw["probe"][2]
    store.add_group(APP, "late")
    store.add_face(APP, "late", "newcomer", None, embed(probe), "{}", None, 1000)
    sync.catch_up()
    assert best(store, index, embed(probe), ("late",))[0][0] == "newcomer"


def test_reopened_index_replays_changes_made_while_closed(library, tmp_path, index_kind, lfw, embed):
    store, index, sync, tokens = library
    sync.close()
    # Another process (or this one before a crash) changes the store while the index is closed.
    store.delete_face(APP, tokens[lfw["enrol"][3].identity])
    store.add_face(APP, "guests", "late_guest", None, embed(lfw["probe"][3]), "{}", None, 1000)
    reopened = open_index(index_kind, tmp_path)
    assert reopened.synced_seq is not None and reopened.synced_seq < store.last_seq()
    IndexSync(store, reopened).open()
    assert reopened.synced_seq == store.last_seq()
    assert_consistent(store, reopened)
    reopened.close()


def test_embedded_shortlisted_segments_add_remove_persist(tmp_path, monkeypatch, lfw, embed):
    """Beyond ANN_THRESHOLD a partition keeps a PQ shortlist; removes, saves and restores work."""
    monkeypatch.setattr(index_module, "ANN_THRESHOLD", 16)
    store = LibraryStore(tmp_path / "library.sqlite3")
    index = index_module.EmbeddedIndex(tmp_path / "index", 128)
    sync = IndexSync(store, index)
    sync.open()
    store.add_group(APP, "big")
    rng = np.random.default_rng(3)
    noise = rng.standard_normal((40, 128)).astype(np.float32)
    for i, vec in enumerate(noise):
        store.add_face(APP, "big", f"noise_{i}", None, vec / np.linalg.norm(vec), "{}", None, 1000)
    tokens = [store.add_face(APP, "big", p.identity, None, embed(p), "{}", None, 1000) for p in lfw["enrol"]]
    sync.catch_up()
    assert index._segments[partition_key(APP, "big")].shortlist is not None
    assert best(store, index, embed(lfw["probe"][0]), ("big",))[0][0] == lfw["probe"][0].identity
    store.delete_face(APP, tokens[0])
    sync.catch_up()
    assert lfw["enrol"][0].identity not in [u for u, _ in best(store, index, embed(lfw["probe"][0]), ("big",))]
    sync.close()
    files = sorted(p.suffix for p in (tmp_path / "index").iterdir())
    assert files == [".json", ".lock", ".pq"]
    restored = index_module.EmbeddedIndex(tmp_path / "index", 128)
    assert restored._segments[partition_key(APP, "big")].shortlist is not None
    assert_consistent(store, restored)
    store.delete_group(APP, "big")
    IndexSync(store, restored).catch_up()
    restored.flush()
    assert restored.count() == 0 and sorted(p.name for p in (tmp_path / "index").iterdir()) == ["manifest.json", "writer.lock"]


@pytest.mark.parametrize("index_kind", ["embedded"])
def test_damaged_manifest_rebuilds_from_the_store(library, tmp_path, index_kind):
    store, index, sync, _ = library
    sync.close()
    (tmp_path / "index" / "manifest.json").write_text("{not json")
    reopened = open_index(index_kind, tmp_path)
    assert reopened.synced_seq is None
    IndexSync(store, reopened).open()
    assert_consistent(store, reopened)


def test_two_workers_share_one_library(tmp_path, lfw, embed):
    """Two server workers: each holds its own embedded index over one store; a write by one is
    found by the other's next search, and only one of them writes the index folder."""
    store = LibraryStore(tmp_path / "library.sqlite3")
    first, second = (index_module.EmbeddedIndex(tmp_path / "index", 128) for _ in range(2))
    sync_first, sync_second = IndexSync(store, first), IndexSync(store, second)
    sync_first.open()
    sync_second.open()
    store.add_group(APP, "staff")
    photo, probe = lfw["enrol"][0], lfw["probe"][0]
    store.add_face(APP, "staff", photo.identity, None, embed(photo), "{}", None, 1000)
    sync_first.catch_up()
    sync_second.catch_up()  # what a search does first
    assert best(store, second, embed(probe))[0][0] == photo.identity
    first.flush()
    second.flush()
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["seq"] == store.last_seq() and first._owner is not None and second._owner is None
    sync_first.close()
    second.flush()  # the lock is free again: the second worker takes over persisting
    assert second._owner is not None
    sync_second.close()
