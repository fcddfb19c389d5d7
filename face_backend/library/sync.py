"""Keeps a VectorIndex equal to the library store by replaying the store's change log.

Every library write commits its records and a change-log entry in one SQLite transaction, then
calls `catch_up()`, which applies every change after the index's `synced_seq` and records the new
number. Searches call `catch_up()` first too, so writes from other worker processes sharing the
store are visible at once. After a crash the persisted index is at some older change number (or
absent): `open()` replays the log from there, or rebuilds the index from the store's embeddings.
Replaying is idempotent: adds replace, removes of missing ids do nothing.
"""
from __future__ import annotations

import threading

import numpy as np

from face_backend.library.index import VectorIndex
from face_backend.library.store import Change, LibraryStore

# Persist the embedded index after this many applied changes (and at close): bounds the replay work
# after a crash without rewriting large index files on every enrolment.
FLUSH_EVERY = 5_000


class IndexSync:
    def __init__(self, store: LibraryStore, index: VectorIndex) -> None:
        self.store = store
        self.index = index
        self._lock = threading.Lock()
        self._unflushed = 0

    def open(self) -> None:
        """Bring a freshly opened index up to date: replay the log, or rebuild when it cannot."""
        with self._lock:
            synced = self.index.synced_seq
            if synced is None or synced > self.store.last_seq():
                self._rebuild()
            else:
                self._replay()

    def catch_up(self) -> None:
        with self._lock:
            if self.index.synced_seq is None:
                self._rebuild()
            else:
                self._replay()
            if self._unflushed >= FLUSH_EVERY:
                self.index.flush()
                self._unflushed = 0

    def close(self) -> None:
        with self._lock:
            self.index.close()

    def _rebuild(self) -> None:
        self.index.reset()

        def consume(rows: list[tuple[str, int, bytes]]) -> None:
            by_part: dict[str, list[tuple[int, bytes]]] = {}
            for part, face_id, blob in rows:
                by_part.setdefault(part, []).append((face_id, blob))
            for part, items in by_part.items():
                self.index.add(part, [i for i, _ in items], _vectors([b for _, b in items], self.index.dim))

        seq = self.store.snapshot(consume)
        self.index.mark_synced(seq)
        self.index.flush()
        self._unflushed = 0

    def _replay(self) -> None:
        while True:
            synced = self.index.synced_seq
            changes = self.store.changes_since(synced or 0)
            if not changes:
                return
            for part, op, run in _runs(changes):
                if op == "add":
                    present = [c for c in run if c.embedding is not None]  # deleted since: skip
                    if present:
                        self.index.add(part, [c.face_id for c in present],
                                       _vectors([c.embedding for c in present], self.index.dim))
                elif op == "remove":
                    self.index.remove(part, [c.face_id for c in run])
                else:
                    self.index.drop(part)
            self.index.mark_synced(changes[-1].seq)
            self._unflushed += len(changes)


def _vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim)


def _runs(changes: list[Change]) -> list[tuple[str, str, list[Change]]]:
    """Consecutive changes of the same op and partition, in order (applied as one batch each)."""
    runs: list[tuple[str, str, list[Change]]] = []
    for change in changes:
        if runs and runs[-1][0] == change.partition and runs[-1][1] == change.op and change.op != "drop":
            runs[-1][2].append(change)
        else:
            runs.append((change.partition, change.op, [change]))
    return runs
