"""The embedded index's large-group path (PQ fast-scan shortlist + exact re-rank) against exact
search: same answers, holes left by removals, compaction, and the way back to exact search."""
from __future__ import annotations

import json

import numpy as np
import pytest

from face_backend.library import index as index_module

PART = "app/big"


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(index_module, "ANN_THRESHOLD", 500)


def exact_best(ids: np.ndarray, vectors: np.ndarray, probe: np.ndarray) -> int:
    return int(ids[np.argmax(vectors @ probe)])


def test_shortlist_answers_like_exact_search(tmp_path, small_threshold):
    rng = np.random.default_rng(5)
    vectors = unit(rng.standard_normal((3000, 64)))
    ids = np.arange(10, 3010)
    index = index_module.EmbeddedIndex(tmp_path / "index", 64)
    index.add(PART, ids, vectors)
    assert index._segments[PART].shortlist is not None
    probes = unit(vectors[:100] + 0.5 * unit(rng.standard_normal((100, 64))))  # near a stored vector
    randoms = unit(rng.standard_normal((100, 64)))  # no structure at all: the hard case
    for probe in np.concatenate([probes, randoms]):
        found = index.search(probe, 5, [PART])
        assert found[0][0] == exact_best(ids, vectors, probe)
        assert found[0][1] == pytest.approx(float(np.max(vectors @ probe)), abs=1e-5)  # exact score
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_removals_leave_holes_then_compact_and_persist(tmp_path, small_threshold):
    rng = np.random.default_rng(6)
    vectors = unit(rng.standard_normal((1000, 32)))
    ids = np.arange(1000)
    index = index_module.EmbeddedIndex(tmp_path / "index", 32)
    index.add(PART, ids, vectors)
    segment = index._segments[PART]
    index.remove(PART, ids[:200])  # 20 %: holes stay
    assert segment.holes == 200 and index.count(PART) == 800
    assert index.search(vectors[5], 1, [PART])[0][0] != 5
    assert index.search(vectors[500], 1, [PART])[0] == (500, pytest.approx(1.0, abs=1e-5))
    index.add(PART, ids[600:601], -vectors[600:601])  # a replacement is a hole plus a new row
    assert index.search(-vectors[600], 1, [PART])[0][0] == 600
    index.mark_synced(1)
    index.flush()
    restored = index_module.EmbeddedIndex(tmp_path / "index", 32)
    kept = restored._segments[PART]
    assert kept.shortlist is not None and kept.holes == 201 and restored.count(PART) == 800
    assert sorted(restored.ids(PART).tolist()) == list(range(200, 1000))
    assert restored.search(vectors[700], 1, [PART])[0][0] == 700
    restored.remove(PART, ids[200:300])  # past a quarter of the rows: compacted, codes rebuilt
    assert kept.holes == 0 and kept.size == 700 and kept.shortlist is not None
    assert restored.search(vectors[900], 1, [PART])[0][0] == 900
    restored.remove(PART, ids[300:800])  # below the threshold: back to exact search
    assert kept.shortlist is None and restored.count(PART) == 200
    assert restored.search(vectors[950], 1, [PART])[0][0] == 950
    restored.close()
    index.close()


def test_index_folder_of_the_former_hnsw_kind_starts_empty_for_a_rebuild(tmp_path):
    """A data dir written by the release that kept usearch graphs: not loaded, so IndexSync.open()
    rebuilds it from the store's embeddings."""
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "a.hnsw").write_bytes(b"usearch graph")
    (folder / "manifest.json").write_text(json.dumps(
        {"dim": 128, "seq": 7, "segments": {PART: {"file": "a.hnsw", "kind": "hnsw"}}}))
    index = index_module.EmbeddedIndex(folder, 128)
    assert index.synced_seq is None and index.count() == 0
