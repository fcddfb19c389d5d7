"""Vector indexes of the face library behind one small interface.

A VectorIndex holds unit vectors under int64 ids (the store's face row ids), each in one
partition (one group of one app, see store.partition_key), and answers cosine top-k searches
restricted to some partitions. It also remembers the store change number (`synced_seq`) its content
reflects, so that sync.IndexSync can replay the store's change log after a restart or a crash.

- EmbeddedIndex: in-process, one segment per partition: exact numpy search while a partition holds
  fewer than ANN_THRESHOLD vectors; beyond, a faiss PQ fast-scan shortlist (a full scan of 32-byte
  codes) whose best candidates are re-scored exactly. Persisted in a folder: every segment
  and a manifest written to temporary files and renamed into place (atomic on POSIX), the manifest
  last, so a crash at any point leaves the previous consistent state plus the change log. Of
  several processes sharing the folder, only the one holding its lock file writes it.
- MilvusIndex: a Milvus collection through pymilvus (a server URI, or a milvus-lite file path),
  one entity per face with its partition as a scalar field; the synced change number lives in a
  one-row side collection, written at flush() after the vectors are flushed.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

# Groups below this size are scanned exactly (float32 matrix x vector): about 1 ms of CPU at 50,000
# vectors, 21 ms at 1M (docs/BENCHMARKS.md "Face library search"); beyond it a group also keeps a
# shortlist index.
ANN_THRESHOLD = 50_000
# The shortlist: faiss product-quantisation "fast scan" codes, 4 bits per pair of dimensions
# (32 bytes per 128-d vector, 32 MB for 1M), scanned in full for every search (about 1.4 ms of CPU
# at 1M with the re-rank), then the best RERANK candidates re-scored exactly from the float32 rows:
# recall@1 1.0 at 1M. A full scan of compact codes does not depend on the vectors' distribution,
# unlike a graph index (usearch HNSW reached recall@1 0.57 on 1M random vectors after a 46-minute
# build). Its cost grows linearly with the group's size.
RERANK = 512
PQ_DIMS_PER_CODE = 2
PQ_TRAIN_SAMPLE = 65_536  # codebook training rows: plenty for 16 centroids per sub-space
# Removing a row from a shortlisted segment leaves a hole (the codes are position-addressed); once
# holes exceed this share of the rows the segment is compacted (codes retrained and rebuilt).
MAX_HOLE_SHARE = 0.25


class VectorIndex(Protocol):
    dim: int

    def add(self, partition: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add (or replace) unit vectors under ids in a partition."""

    def remove(self, partition: str, ids: Sequence[int]) -> None:
        """Remove ids from a partition; unknown ids are ignored."""

    def drop(self, partition: str) -> None:
        """Remove every vector of a partition."""

    def search(self, vector: np.ndarray, k: int, partitions: Sequence[str]) -> list[tuple[int, float]]:
        """Up to k (id, cosine) pairs, best first, among the given partitions."""

    def count(self, partition: str | None = None) -> int:
        """Vectors held (in one partition, or in all)."""

    def ids(self, partition: str) -> np.ndarray:
        """Every id held in a partition (consistency checks and tests)."""

    @property
    def synced_seq(self) -> int | None:
        """The store change number the content reflects; None when nothing was restored."""

    def mark_synced(self, seq: int) -> None:
        """Record that the content now reflects the store up to change `seq`."""

    def reset(self) -> None:
        """Forget everything (before a rebuild from the store)."""

    def flush(self) -> None:
        """Persist the content and synced_seq durably."""

    def close(self) -> None:
        """flush() and release resources."""


def _unit_rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    return arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)


def _last_per_id(ids: Sequence[int], vectors: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch with each id once, its last vector kept (an id added twice in one batch is a face
    embedded again: the later vector is the one that counts), as int64 keys and unit rows."""
    keys = np.asarray(ids, dtype=np.int64).reshape(-1)
    rows = _unit_rows(vectors, dim)
    if len(keys) != len(rows):
        raise ValueError(f"{len(keys)} ids for {len(rows)} vectors")
    if len(keys) == len(set(keys.tolist())):
        return keys, rows
    last = np.sort(len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1])
    return keys[last], rows[last]


def _top_k(pairs: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
    return sorted(pairs, key=lambda p: -p[1])[:k]


class _Segment:
    """The vectors of one partition: a growable float32 matrix, searched exactly while small and,
    beyond ANN_THRESHOLD, through a PQ fast-scan shortlist re-ranked exactly (RERANK)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.matrix = np.empty((16, dim), dtype=np.float32)
        self.keys = np.empty(16, dtype=np.int64)  # -1 marks a hole (shortlisted segments only)
        self.size = 0  # rows in use, holes included
        self.holes = 0
        self.row: dict[int, int] = {}
        self.shortlist = None  # faiss.IndexPQFastScan over rows [0, size) once the segment is large
        self.dirty = True

    def __len__(self) -> int:
        return self.size - self.holes

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.dirty = True
        self.remove(ids)
        need = self.size + len(ids)
        if need > len(self.keys):  # grow into fresh (untouched, so not yet resident) memory
            cap = max(need, 2 * len(self.keys))
            matrix, keys = np.empty((cap, self.dim), dtype=np.float32), np.empty(cap, dtype=np.int64)
            matrix[:self.size], keys[:self.size] = self.matrix[:self.size], self.keys[:self.size]
            self.matrix, self.keys = matrix, keys
        self.matrix[self.size:need] = vectors
        self.keys[self.size:need] = ids
        for offset, key in enumerate(ids.tolist()):
            self.row[key] = self.size + offset
        self.size = need
        if self.shortlist is not None:
            self.shortlist.add(vectors)
        elif len(self) >= _shortlist_from():
            self._build_shortlist()

    def _compact(self) -> None:
        """Drop the holes (the codes, addressed by row, must be rebuilt after this)."""
        live = self.keys[:self.size] >= 0
        self.matrix, self.keys = self.matrix[:self.size][live].copy(), self.keys[:self.size][live].copy()
        self.size, self.holes = len(self.keys), 0
        self.row = {key: at for at, key in enumerate(self.keys.tolist())}

    def _build_shortlist(self) -> None:
        """(Re)build the codes over the live rows; retrains the codebooks on the current vectors."""
        self._compact()
        self.shortlist = new_shortlist(self.dim)
        rows = self.matrix
        if len(rows) > PQ_TRAIN_SAMPLE:
            rows = rows[np.random.default_rng(0).choice(len(rows), PQ_TRAIN_SAMPLE, replace=False)]
        self.shortlist.train(rows)
        for start in range(0, self.size, 100_000):
            self.shortlist.add(self.matrix[start:start + 100_000])

    def remove(self, ids: np.ndarray) -> None:
        for key in ids.tolist():
            at = self.row.pop(int(key), None)
            if at is None:
                continue
            self.dirty = True
            if self.shortlist is not None:  # codes are addressed by row: leave a hole
                self.keys[at] = -1
                self.holes += 1
                continue
            last = self.size - 1
            if at != last:  # move the last row into the hole
                self.matrix[at] = self.matrix[last]
                self.keys[at] = self.keys[last]
                self.row[int(self.keys[at])] = at
            self.size = last
        if self.shortlist is not None and self.holes > MAX_HOLE_SHARE * self.size:
            self.shortlist = None
            if len(self) >= _shortlist_from():
                self._build_shortlist()
            else:  # shrunk back to exact search
                self._compact()

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0:
            return []
        if self.shortlist is None:
            rows = np.arange(self.size)
            sims = self.matrix[:self.size] @ vector
        else:
            # Ask for more candidates in proportion to the holes, which are dropped here.
            want = min(self.size, int(max(RERANK, k) * self.size / len(self)) + 1)
            rows = self.shortlist.search(vector.reshape(1, -1), want)[1][0]
            rows = rows[rows >= 0]
            rows = rows[self.keys[rows] >= 0]
            sims = self.matrix[rows] @ vector
        k = min(k, len(rows))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        return [(int(self.keys[rows[i]]), float(sims[i])) for i in top]

    def all_ids(self) -> np.ndarray:
        keys = self.keys[:self.size]
        return keys[keys >= 0].copy()

    def save(self, path: Path) -> None:
        """One file holds the rows and (for a shortlisted segment) its codes, so they always match."""
        tmp = path.with_name(path.name + ".tmp")
        arrays = {"keys": self.keys[:self.size], "matrix": self.matrix[:self.size]}
        if self.shortlist is not None:
            arrays["shortlist"] = _faiss().serialize_index(self.shortlist)
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        _fsync_file(tmp)
        os.replace(tmp, path)
        self.dirty = False

    @classmethod
    def load(cls, path: Path, dim: int, kind: str) -> "_Segment":
        if kind not in ("npz", "pq"):  # e.g. "hnsw" from an older release: rebuilt from the store
            raise ValueError(f"unknown segment kind {kind!r}")
        seg = cls(dim)
        with np.load(path) as data:
            keys, matrix = data["keys"].astype(np.int64), data["matrix"].astype(np.float32)
            codes = data["shortlist"] if "shortlist" in data.files else None
        if matrix.shape[1:] != (dim,) or len(keys) != len(matrix):
            raise ValueError(f"{path} does not hold {dim}-d vectors")
        if codes is None:
            seg.add(keys, matrix)
        else:
            seg.shortlist = _faiss().deserialize_index(codes)
            if seg.shortlist.d != dim or seg.shortlist.ntotal != len(keys):
                raise ValueError(f"{path}: codes do not match its rows")
            seg.matrix, seg.keys, seg.size = matrix, keys, len(keys)
            seg.holes = int((keys < 0).sum())
            seg.row = {key: at for at, key in enumerate(keys.tolist()) if key >= 0}
        seg.dirty = False
        return seg


def _shortlist_from() -> int:
    """Live rows from which a segment keeps a shortlist (16: the codebooks' centroids per sub-space)."""
    return max(ANN_THRESHOLD, 16)


def _faiss():
    """The faiss module, set to one thread: each search runs on its request's thread (OpenMP
    threads for a single query would only spin against the other requests for the cores)."""
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


def new_shortlist(dim: int):
    """An untrained faiss PQ fast-scan index (inner product on unit vectors = cosine)."""
    faiss = _faiss()
    return faiss.IndexPQFastScan(dim, max(1, dim // PQ_DIMS_PER_CODE), 4, faiss.METRIC_INNER_PRODUCT)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a directory
        pass
    finally:
        os.close(fd)


MANIFEST = "manifest.json"
LOCK = "writer.lock"


class EmbeddedIndex:
    """VectorIndex in this process, persisted in `folder` (see the module docstring)."""

    def __init__(self, folder: Path | str, dim: int) -> None:
        self.folder = Path(folder)
        self.dim = dim
        self._segments: dict[str, _Segment] = {}
        self._seq: int | None = None
        self._saved_files: dict[str, str] = {}
        self._lock = threading.RLock()
        self._owner = None  # the locked file while this process persists the folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._restore()

    # -- persistence -----------------------------------------------------------------------------
    def _restore(self) -> None:
        """Load the last manifest's segments; on any damage start empty (the store rebuilds it)."""
        path = self.folder / MANIFEST
        if not path.exists():
            return
        try:
            manifest = json.loads(path.read_text())
            if manifest["dim"] != self.dim:
                return
            segments = {part: _Segment.load(self.folder / entry["file"], self.dim, entry["kind"])
                        for part, entry in manifest["segments"].items()}
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return
        self._segments = segments
        self._saved_files = {part: entry["file"] for part, entry in manifest["segments"].items()}
        self._seq = int(manifest["seq"])

    @staticmethod
    def _file_name(partition: str, kind: str) -> str:
        return f"{hashlib.sha256(partition.encode()).hexdigest()[:32]}.{kind}"

    def _owns_folder(self) -> bool:
        """Whether this process persists the folder: the first to lock it does, the others keep
        their index in memory and catch up from the store's log (several server workers)."""
        if self._owner is None:
            handle = open(self.folder / LOCK, "a+b")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._owner = handle
        return True

    def flush(self) -> None:
        with self._lock:
            if self._seq is None or not self._owns_folder():
                return
            entries = {}
            for part, seg in self._segments.items():
                kind = "pq" if seg.shortlist is not None else "npz"
                name = self._file_name(part, kind)
                if seg.dirty or self._saved_files.get(part) != name:
                    seg.save(self.folder / name)
                entries[part] = {"file": name, "kind": kind}
            tmp = self.folder / (MANIFEST + ".tmp")
            tmp.write_text(json.dumps({"dim": self.dim, "seq": self._seq, "segments": entries}))
            _fsync_file(tmp)
            os.replace(tmp, self.folder / MANIFEST)
            _fsync_dir(self.folder)
            self._saved_files = {part: entry["file"] for part, entry in entries.items()}
            self._remove_unlisted()

    def _remove_unlisted(self) -> None:
        """Delete segment files the manifest no longer names (dropped groups, left-over temporaries)."""
        keep = set(self._saved_files.values()) | {MANIFEST, LOCK}
        for path in self.folder.iterdir():
            if path.name not in keep and path.is_file():
                path.unlink(missing_ok=True)

    def close(self) -> None:
        self.flush()
        if self._owner is not None:
            self._owner.close()  # releases the lock
            self._owner = None

    # -- VectorIndex -----------------------------------------------------------------------------
    @property
    def synced_seq(self) -> int | None:
        return self._seq

    def mark_synced(self, seq: int) -> None:
        self._seq = seq

    def reset(self) -> None:
        with self._lock:
            self._segments = {}
            self._seq = None

    def add(self, partition: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        keys, rows = _last_per_id(ids, vectors, self.dim)
        if not len(keys):
            return
        with self._lock:
            seg = self._segments.setdefault(partition, _Segment(self.dim))
            seg.add(keys, rows)

    def remove(self, partition: str, ids: Sequence[int]) -> None:
        with self._lock:
            seg = self._segments.get(partition)
            if seg is not None:
                seg.remove(np.asarray(ids, dtype=np.int64).reshape(-1))
                if len(seg) == 0:
                    del self._segments[partition]

    def drop(self, partition: str) -> None:
        with self._lock:
            self._segments.pop(partition, None)

    def search(self, vector: np.ndarray, k: int, partitions: Sequence[str]) -> list[tuple[int, float]]:
        query = _unit_rows(vector, self.dim)[0]
        with self._lock:
            found: list[tuple[int, float]] = []
            for part in dict.fromkeys(partitions):
                seg = self._segments.get(part)
                if seg is not None:
                    found += seg.search(query, k)
        return _top_k(found, k)

    def count(self, partition: str | None = None) -> int:
        with self._lock:
            if partition is not None:
                seg = self._segments.get(partition)
                return len(seg) if seg is not None else 0
            return sum(len(seg) for seg in self._segments.values())

    def ids(self, partition: str) -> np.ndarray:
        with self._lock:
            seg = self._segments.get(partition)
            return seg.all_ids() if seg is not None else np.empty(0, dtype=np.int64)

    def partitions(self) -> list[str]:
        with self._lock:
            return list(self._segments)


def _quoted(text: str) -> str:
    """A Milvus filter string literal (partition keys are validated, this is defence in depth)."""
    return json.dumps(text)


class MilvusIndex:
    """VectorIndex in a Milvus collection (a server "http://host:19530" or a milvus-lite file)."""

    def __init__(self, uri: str, dim: int, collection: str = "facegate_faces", token: str = "") -> None:
        from pymilvus import DataType, MilvusClient

        self.dim = dim
        self.collection = collection
        self._state = f"{collection}_state"
        self._uri = uri
        self._local_file = "://" not in uri  # a milvus-lite file rather than a server address
        self._client = MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)
        if not self._client.has_collection(collection):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("part", DataType.VARCHAR, max_length=256)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            params = self._client.prepare_index_params()
            params.add_index("vector", index_type="AUTOINDEX", metric_type="COSINE")
            params.add_index("part", index_type="INVERTED")
            # Strong consistency: a search sees every insert and delete acknowledged before it.
            self._client.create_collection(collection, schema=schema, index_params=params,
                                           consistency_level="Strong")
        if not self._client.has_collection(self._state):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("seq", DataType.INT64)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs one vector field
            params = self._client.prepare_index_params()
            params.add_index("vector", index_type="FLAT", metric_type="L2")
            self._client.create_collection(self._state, schema=schema, index_params=params,
                                           consistency_level="Strong")
        for name in (collection, self._state):  # after a server restart collections start released
            self._client.load_collection(name)
        rows = self._client.query(self._state, filter="id == 1", output_fields=["seq"])
        self._seq: int | None = int(rows[0]["seq"]) if rows else None

    @property
    def synced_seq(self) -> int | None:
        return self._seq

    def mark_synced(self, seq: int) -> None:
        self._seq = seq  # made durable by flush(), after the vectors it covers

    def reset(self) -> None:
        self._client.delete(self.collection, filter="id >= 0 or id < 0")
        self._client.delete(self._state, filter="id == 1")
        self._seq = None

    def add(self, partition: str, ids: Sequence[int], vectors: np.ndarray) -> None:
        keys, rows = _last_per_id(ids, vectors, self.dim)  # Milvus refuses a key twice in one upsert
        data = [{"id": int(i), "part": partition, "vector": row.tolist()} for i, row in zip(keys, rows)]
        for start in range(0, len(data), 1000):
            self._client.upsert(self.collection, data[start:start + 1000])

    def remove(self, partition: str, ids: Sequence[int]) -> None:
        keys = [int(i) for i in ids]
        for start in range(0, len(keys), 1000):
            self._client.delete(self.collection, ids=keys[start:start + 1000])

    def drop(self, partition: str) -> None:
        self._client.delete(self.collection, filter=f"part == {_quoted(partition)}")

    def search(self, vector: np.ndarray, k: int, partitions: Sequence[str]) -> list[tuple[int, float]]:
        parts = list(dict.fromkeys(partitions))
        if not parts or k < 1:
            return []
        query = _unit_rows(vector, self.dim)[0].tolist()
        found = self._client.search(self.collection, data=[query], limit=k, output_fields=["id"],
                                    filter=f"part in [{', '.join(_quoted(p) for p in parts)}]",
                                    search_params={"metric_type": "COSINE"})
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def count(self, partition: str | None = None) -> int:
        flt = f"part == {_quoted(partition)}" if partition is not None else "id >= 0 or id < 0"
        rows = self._client.query(self.collection, filter=flt, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def ids(self, partition: str) -> np.ndarray:
        rows = self._client.query(self.collection, filter=f"part == {_quoted(partition)}", output_fields=["id"])
        return np.array(sorted(int(r["id"]) for r in rows), dtype=np.int64)

    def flush(self) -> None:
        # Vectors first, then the change number: after a crash the recorded number is never ahead
        # of the durable vectors, and replaying the log from it is idempotent.
        self._client.flush(self.collection)
        if self._seq is not None:
            self._client.upsert(self._state, [{"id": 1, "seq": int(self._seq), "vector": [0.0, 0.0]}])
            self._client.flush(self._state)

    def close(self) -> None:
        if self._client is None:
            return
        self.flush()
        self._client.close()
        self._client = None
        if self._local_file:
            # milvus-lite serves a file from a thread of this process and holds its lock until
            # released: free it, so that another process can open the library.
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self._uri)
