"""Crash safety: a writer killed with SIGKILL at arbitrary moments (mid-transaction, mid-flush of
the index files) leaves a library whose index, once reopened, equals its store."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from face_backend.library import index as index_module
from face_backend.library.store import LibraryStore
from face_backend.library.sync import IndexSync
from library_checks import assert_consistent, open_index

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crash_writer.py")


def run_and_kill(folder: Path, kind: str, seed: int, steps: int) -> int:
    """Start the writer, SIGKILL it (and its milvus-lite child) after `steps` operations."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(WRITER), str(folder), kind, str(seed)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    last = 0
    try:
        for line in proc.stdout:
            last = int(line)
            if last >= steps:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert last >= steps, f"writer stopped after {last} steps"
    return last


@pytest.mark.parametrize("kind, rounds", [("embedded", 3), ("milvus-lite", 1)])
def test_killed_writer_leaves_a_consistent_library(tmp_path, kind, rounds, monkeypatch):
    monkeypatch.setattr(index_module, "ANN_THRESHOLD", 30)
    for seed in range(rounds):
        run_and_kill(tmp_path, kind, seed, steps=60 + 37 * seed)
        store = LibraryStore(tmp_path / "library.sqlite3")
        index = open_index(kind, tmp_path, dim=16)
        IndexSync(store, index).open()
        assert_consistent(store, index)
        assert store.all_face_ids(), "the writer enrolled nothing"
        # Every stored face is found by its own vector.
        part, ids = next(iter(store.all_face_ids().items()))
        face_id = min(ids)
        blob = store._db().execute("SELECT embedding FROM faces WHERE id = ?", (face_id,)).fetchone()[0]
        assert index.search(np.frombuffer(blob, dtype=np.float32), 1, [part])[0][0] == face_id
        index.close()
        store.close()
    if kind == "embedded":
        assert any(p.suffix == ".pq" for p in (tmp_path / "index").iterdir())
