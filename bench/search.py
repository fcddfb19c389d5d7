"""1:N search speed and recall of the face library's indexes on one large group.

The group: N vectors = random unit vectors in the pack's dimension plus the real embeddings of one
photo per identity of the LFW and Chinese-celebrity eval sets (bench/eval_embeddings.py). Probes:
the other photos of those identities (a real face whose own enrolled photo is in the group), and
as many random unit vectors (the hardest case for a graph index: no structure at all).
For each index: build time, memory, p50/p99 latency of one search (k=10, one thread, through the
product's VectorIndex.search), and recall@1 against exact search (numpy over all N vectors).

- embedded: face_backend.library.index.EmbeddedIndex (usearch HNSW beyond ANN_THRESHOLD), at each
  search expansion given by --ef;
- milvus-lite: MilvusIndex on a milvus-lite file, on the first --milvus-n vectors (milvus-lite's
  insert is far slower than usearch's build; say so when it is smaller than N).

usage: .venv/bin/python bench/search.py [--n 1000000] [--queries 1000] [--ef 64,96,128] [--milvus-n 100000]
"""
from __future__ import annotations

import argparse
import gc
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import eval_embeddings  # noqa: E402
from face_backend.library.index import EmbeddedIndex, MilvusIndex  # noqa: E402
from face_backend.library.service import DEFAULT_OPERATING_POINT, OPERATING_POINTS  # noqa: E402

PART = "bench/group"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def dataset(n: int, pack: str, queries: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, int]:
    """(gallery N x d, probes Q x d, number of real probes first in probes)."""
    enrolled, probes = [], []
    for name in eval_embeddings.SETS:
        data = eval_embeddings.load(name, pack)
        seen: set[str] = set()
        for ident, vec in zip(data["identities"], data["vectors"]):
            (probes if ident in seen else enrolled).append(vec)
            seen.add(ident)
    real = np.stack(enrolled)
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    gallery = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n - len(real), 100_000):  # chunks keep the float64 temporaries small
        stop = min(start + 100_000, n - len(real))
        gallery[start:stop] = unit(rng.standard_normal((stop - start, dim)))
    gallery[n - len(real):] = real
    real_probes = np.stack(probes)[rng.permutation(len(probes))[: queries // 2]]
    random_probes = unit(rng.standard_normal((queries - len(real_probes), dim)))
    return gallery, np.concatenate([real_probes, random_probes]), len(real_probes)


def exact_top1(gallery: np.ndarray, probes: np.ndarray) -> np.ndarray:
    best = np.full(len(probes), -np.inf, dtype=np.float32)
    arg = np.zeros(len(probes), dtype=np.int64)
    for start in range(0, len(gallery), 200_000):
        sims = probes @ gallery[start:start + 200_000].T
        top = sims.argmax(axis=1)
        val = sims[np.arange(len(probes)), top]
        better = val > best
        best[better], arg[better] = val[better], top[better] + start
    return arg


def measure(index, probes: np.ndarray, truth: np.ndarray, n_real: int, matched: np.ndarray) -> dict:
    """matched: the probes whose exact best match reaches the default operating point."""
    for probe in probes[:20]:  # warm caches
        index.search(probe, 10, [PART])
    latencies, hits = [], []
    for probe, expected in zip(probes, truth):
        started = time.perf_counter()
        found = index.search(probe, 10, [PART])
        latencies.append((time.perf_counter() - started) * 1000)
        hits.append(bool(found) and found[0][0] == expected)
    lat = np.array(latencies)
    hits_arr = np.array(hits)
    return {"p50": np.percentile(lat, 50), "p99": np.percentile(lat, 99),
            "recall_real": hits_arr[:n_real].mean(), "recall_random": hits_arr[n_real:].mean(),
            "recall_matched": hits_arr[matched].mean()}


def row(name: str, n: int, ef: str, build_s: float, mem_mb: float, m: dict) -> str:
    return (f"| {name} | {n:,} | {ef} | {build_s:.1f} | {mem_mb:.0f} | {m['p50']:.2f} | {m['p99']:.2f} "
            f"| {m['recall_real']:.4f} | {m['recall_matched']:.4f} | {m['recall_random']:.4f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef", default="64,96,128", help="HNSW search expansions to measure")
    parser.add_argument("--milvus-n", type=int, default=100_000, help="vectors for milvus-lite (0: skip)")
    parser.add_argument("--pack", default="default")
    args = parser.parse_args()

    gallery, probes, n_real = dataset(args.n, args.pack, args.queries)
    ids = np.arange(len(gallery), dtype=np.int64)
    print(f"# {len(gallery):,} x {gallery.shape[1]} gallery ({n_real} real probes, {len(probes) - n_real} random),"
          f" {platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    truth = exact_top1(gallery, probes)
    threshold = OPERATING_POINTS[args.pack][DEFAULT_OPERATING_POINT]
    matched = (np.einsum("ij,ij->i", probes, gallery[truth]) >= threshold) & (np.arange(len(probes)) < n_real)
    print(f"# {int(matched.sum())} real probes have a match at or above the default operating point ({threshold})", flush=True)
    header = ("| index | N | search expansion | build s | memory MB | p50 ms | p99 ms | recall@1 real probes "
              "| recall@1 real probes with a match | recall@1 random probes |\n|---|---|---|---|---|---|---|---|---|---|")
    lines = [header]
    print(header, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        embedded = EmbeddedIndex(Path(tmp) / "embedded", gallery.shape[1])
        for start in range(0, len(gallery), 100_000):
            embedded.add(PART, ids[start:start + 100_000], gallery[start:start + 100_000])
        build_s = time.perf_counter() - started
        mem_mb = rss_mb() - before
        segment = embedded._segments[PART]
        for ef in [int(e) for e in args.ef.split(",")]:
            if segment.ann is not None:
                segment.ann.expansion_search = ef
            lines.append(row("embedded (usearch HNSW)" if segment.ann is not None else "embedded (exact)",
                             len(gallery), str(ef) if segment.ann is not None else "-", build_s, mem_mb,
                             measure(embedded, probes, truth, n_real, matched)))
            print(lines[-1], flush=True)
        started = time.perf_counter()
        embedded.mark_synced(0)
        embedded.flush()
        print(f"# embedded index saved in {time.perf_counter() - started:.1f} s", flush=True)
        del embedded, segment
        gc.collect()

        if args.milvus_n:
            n = min(args.milvus_n, len(gallery))
            sub = gallery[len(gallery) - n:]  # the tail holds the real embeddings
            sub_truth = exact_top1(sub, probes)
            sub_matched = (np.einsum("ij,ij->i", probes, sub[sub_truth]) >= threshold) & (np.arange(len(probes)) < n_real)
            before = rss_mb()
            started = time.perf_counter()
            milvus = MilvusIndex(str(Path(tmp) / "milvus.db"), gallery.shape[1], collection="bench")
            milvus.add(PART, ids[: n], sub)
            milvus.flush()
            build_s = time.perf_counter() - started
            mem_mb = rss_mb() - before  # milvus-lite serves from threads of this process
            lines.append(row("milvus-lite (AUTOINDEX)", n, "-", build_s, mem_mb, measure(milvus, probes, sub_truth, n_real, sub_matched)))
            print(lines[-1], flush=True)
            milvus.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
