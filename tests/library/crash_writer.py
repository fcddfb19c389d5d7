"""A library writer for the crash test: enrols and deletes faces as fast as it can, persisting its
index often, until it is killed. usage: python crash_writer.py FOLDER KIND SEED"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from face_backend.library import index as index_module
from face_backend.library import sync as sync_module
from face_backend.library.store import AlreadyExists, LibraryStore, NotFound
from face_backend.library.sync import IndexSync
from library_checks import open_index


def main() -> None:
    folder, kind, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    # Small limits so that shortlisted segments exist and persisting happens many times a second.
    index_module.ANN_THRESHOLD = 30
    sync_module.FLUSH_EVERY = 5
    store = LibraryStore(folder / "library.sqlite3")
    index = open_index(kind, folder, dim=16)
    sync = IndexSync(store, index)
    sync.open()
    rng = np.random.default_rng(seed)
    tokens: list[str] = []
    step = 0
    while True:
        step += 1
        group = f"g{rng.integers(3)}"
        try:
            roll = rng.random()
            if roll < 0.02:
                store.delete_group("app", group)
            elif roll < 0.25 and tokens:
                store.delete_face("app", tokens.pop(int(rng.integers(len(tokens)))))
            else:
                try:
                    store.add_group("app", group)
                except AlreadyExists:
                    pass
                tokens.append(store.add_face("app", group, f"u{step}", None, rng.standard_normal(16), "{}", b"photo", 10**6))
        except NotFound:
            pass
        sync.catch_up()
        print(step, flush=True)


if __name__ == "__main__":
    main()
