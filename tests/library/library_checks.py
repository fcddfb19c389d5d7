"""Helpers of the face library tests: opening an index of either kind, checking it against the store."""
from __future__ import annotations

from pathlib import Path

from face_backend.library.index import EmbeddedIndex, MilvusIndex
from face_backend.library.store import LibraryStore


def open_index(kind: str, folder: Path, dim: int = 128):
    if kind == "embedded":
        return EmbeddedIndex(folder / "index", dim)
    return MilvusIndex(str(folder / "milvus.db"), dim, collection="faces")


def assert_consistent(store: LibraryStore, index) -> None:
    """The index holds exactly the store's faces, partition by partition."""
    expected = store.all_face_ids()
    for part, ids in expected.items():
        assert set(index.ids(part).tolist()) == ids, part
    assert index.count() == sum(len(ids) for ids in expected.values())
