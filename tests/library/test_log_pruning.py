"""Pruning the library's change log, on both index kinds: two processes' index keepers share one store;
the log keeps what the slower one has not persisted, loses it once both have (or once the slow one
has been silent past its TTL), and an index left behind the pruned point rebuilds to the store's state."""
from __future__ import annotations

import time

from face_backend.library.store import LibraryStore
from face_backend.library.sync import IndexSync
from library_checks import assert_consistent, open_index

APP = "app_p"


def test_log_is_pruned_once_every_reader_persisted_it(tmp_path, index_kind, lfw, embed):
    store = LibraryStore(tmp_path / "library.sqlite3")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = IndexSync(store, open_index(index_kind, tmp_path / "a"), prune_seconds=3600, reader_ttl=100)
    second = IndexSync(store, open_index(index_kind, tmp_path / "b"), prune_seconds=3600, reader_ttl=100)
    first.open()
    second.open()
    store.add_group(APP, "g")
    photos = lfw["enrol"] + lfw["stranger"]
    tokens = [store.add_face(APP, "g", f"u{i}", None, embed(p), "{}", None, 1000) for i, p in enumerate(photos)]
    now = time.time()

    # Only the first has applied and persisted the adds: the second still needs them.
    first.catch_up()
    first.flush()
    assert first.prune(now) == 0 and store.change_count() == len(photos)
    # Both have: a catch-up past the prune period prunes the whole log; numbering goes on.
    second.catch_up()
    second.flush()
    first.prune_seconds = 0
    first.catch_up()
    assert store.change_count() == 0 and store.pruned_through() == store.last_seq() == len(photos)
    assert_consistent(store, first.index)

    # More changes; the second keeper falls silent past its TTL: the first alone decides.
    for token in tokens[:3]:
        store.delete_face(APP, token)
    store.add_face(APP, "g", "late", None, embed(lfw["probe"][0]), "{}", None, 1000)
    first.catch_up()
    first.flush()
    assert first.prune(now + 200) == 4 and store.change_count() == 0
    # The silent one is behind the pruned point: it rebuilds from the faces instead of replaying.
    assert second.index.synced_seq < store.pruned_through()
    second.catch_up()
    assert_consistent(store, second.index)

    # A restart from the persisted state replays what came after it, pruned log or not.
    store.add_face(APP, "g", "later", None, embed(lfw["probe"][1]), "{}", None, 1000)
    first.close()
    reopened = IndexSync(store, open_index(index_kind, tmp_path / "a"))
    reopened.open()
    assert_consistent(store, reopened.index)
    reopened.close()
    second.close()
    store.close()
