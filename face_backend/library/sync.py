"""Keeps a VectorIndex equal to the library store by replaying the store's change log.

Every library write commits its records and a change-log entry in one SQLite transaction, then
calls `catch_up()`, which applies every change after the index's `synced_seq` and records the new
number. Searches call `catch_up()` first too, so writes from other worker processes sharing the
store are visible at once. After a crash the persisted index is at some older change number (or
absent): `open()` replays the log from there, or rebuilds the index from the store's embeddings.
Replaying is idempotent: adds replace, removes of missing ids do nothing.

Pruning the log: at open, at each flush and every PRUNE_SECONDS (at a catch_up, when it also prunes)
a process records the change number its index has persisted (`readers` in the store) and deletes the changes that every reader seen within
READER_TTL has persisted: a restart replays from its persisted number, so those are never needed
again. A reader silent for longer (a dead process, or one idle that long) no longer holds the log
back; if it comes back behind the pruned point its index rebuilds from the store's faces, which
is always correct, only slower. The log therefore holds about the changes since the slowest live
process last persisted (at most FLUSH_EVERY plus what arrived since), not the library's history.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import numpy as np

from facegate.config import env_float
from face_backend.library.index import VectorIndex
from face_backend.library.store import Change, LibraryStore

# Persist the embedded index after this many applied changes (and at close): bounds the replay work
# after a crash without rewriting large index files on every enrolment.
FLUSH_EVERY = 5_000
# How often a process prunes the change log, and how long a silent reader holds it back.
PRUNE_SECONDS = env_float("FACEGATE_LIBRARY_PRUNE_SECONDS", 300.0)
READER_TTL = env_float("FACEGATE_LIBRARY_READER_TTL_SECONDS", 86_400.0)


class IndexSync:
    def __init__(self, store: LibraryStore, index: VectorIndex, prune_seconds: float = PRUNE_SECONDS,
                 reader_ttl: float = READER_TTL) -> None:
        self.store = store
        self.index = index
        self.reader = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.prune_seconds, self.reader_ttl = prune_seconds, reader_ttl
        self._lock = threading.Lock()
        self._unflushed = 0
        self._persisted = 0  # the change number of the index's persisted state, as far as we know
        self._last_prune = time.monotonic()

    def open(self) -> None:
        """Bring a freshly opened index up to date: replay the log, or rebuild when it cannot."""
        with self._lock:
            synced = self.index.synced_seq
            self._persisted = synced or 0  # what was loaded is what is on disk
            if synced is None or synced > self.store.last_seq() or synced < self.store.pruned_through():
                self._rebuild()
            else:
                self._replay()
            self.store.heartbeat(self.reader, self._persisted, time.time())  # (rebuild's flush did too)

    def catch_up(self) -> None:
        with self._lock:
            synced = self.index.synced_seq
            if synced is None or synced < self.store.pruned_through():
                self._rebuild()
            else:
                self._replay()
            if self._unflushed >= FLUSH_EVERY:
                self._flush()
            if time.monotonic() - self._last_prune >= self.prune_seconds:
                self._prune(time.time())

    def prune(self, now: float | None = None) -> int:
        """Record this reader's persisted change number and prune the log (see the module docstring);
        the number of changes deleted."""
        with self._lock:
            return self._prune(time.time() if now is None else now)

    def flush(self) -> None:
        """Persist the index now (it also does every FLUSH_EVERY changes and at close)."""
        with self._lock:
            self._flush()

    def close(self) -> None:
        with self._lock:
            self.index.close()

    def _flush(self) -> None:
        self.index.flush()
        self._unflushed = 0
        self._persisted = self.index.synced_seq or 0
        self.store.heartbeat(self.reader, self._persisted, time.time())

    def _prune(self, now: float) -> int:
        self._last_prune = time.monotonic()
        self.store.heartbeat(self.reader, self._persisted, now)
        return self.store.prune_changes(self.reader_ttl, now)

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
        self._flush()

    def _replay(self) -> None:
        while True:
            synced = self.index.synced_seq
            changes = self.store.changes_since(synced or 0)
            if not changes:
                return
            for part, op, run in _runs(changes):
                if op == "add":
                    # Deleted since: skip. (A face embedded again has two adds here, both with today's
                    # embedding; index.add keeps an id once, its last vector.)
                    present = [c for c in run if c.embedding is not None]
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
