"""1:N search speed and recall of the face library's indexes on one large group.

The group: N vectors = random unit vectors in the pack's dimension plus the real embeddings of one
photo per enrolled identity of the LFW and Chinese-celebrity eval sets (bench/eval_embeddings.py);
every fifth identity (by a hash of its name) is kept out of the group as a stranger. Probes, three
kinds, reported apart:
- enrolled: another photo of an enrolled identity (what the product must find);
- stranger: a photo of an identity not in the group (the product should answer "unknown");
- random: a random unit vector (no structure at all: the worst case for any index).
Recall@1 is against exact search (float32 over all N vectors): "raw" over every probe, and over
the probes whose exact top-1 reaches the lowest operating point (FAR 1e-3), the only ones whose
answer is not "unknown" whatever the index returns. The raw figure stays the headline.

For each index: build time, memory (RSS growth), p50/p99 latency of one search (k=10, one thread,
through the product's VectorIndex.search), wall clock and the thread's CPU time apart (on a shared
machine the wall-clock tail is mostly waiting for a core), then save and reload (restart) times.
- embedded: face_backend.library.index.EmbeddedIndex (PQ fast-scan shortlist re-ranked exactly
  beyond ANN_THRESHOLD), for each shortlist length given by --rerank, plus its exact float32 scan
  for reference on --exact-queries probes;
- milvus-lite: MilvusIndex on a milvus-lite file, on the last --milvus-n vectors (they hold all
  the real ones; milvus-lite's insert is far slower than the embedded build).

usage: .venv/bin/python bench/search.py [--n 1000000] [--queries 1000] [--rerank 256,512,1024]
                                        [--exact-queries 200] [--milvus-n 100000] [--milvus-queries 200]
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import eval_embeddings  # noqa: E402
from face_backend.library import index as index_module  # noqa: E402
from face_backend.library.index import EmbeddedIndex, MilvusIndex  # noqa: E402
from facegate.operating_points import OPERATING_POINTS  # noqa: E402

PART = "bench/group"
KINDS = ("enrolled", "stranger", "random")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def is_stranger(identity: str) -> bool:
    return zlib.crc32(identity.encode()) % 5 == 0


def dataset(n: int, pack: str, queries: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gallery N x d with the real vectors last, probes Q x d, probe kinds Q: index into KINDS)."""
    enrolled, genuine, strangers = [], [], []
    for name in eval_embeddings.SETS:
        data = eval_embeddings.load(name, pack)
        seen: set[str] = set()
        for ident, vec in zip(data["identities"], data["vectors"]):
            if is_stranger(str(ident)):
                strangers.append(vec)
            else:
                (genuine if ident in seen else enrolled).append(vec)
            seen.add(ident)
    real = np.stack(enrolled)
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    gallery = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n - len(real), 100_000):  # chunks keep the float64 temporaries small
        stop = min(start + 100_000, n - len(real))
        gallery[start:stop] = unit(rng.standard_normal((stop - start, dim)))
    gallery[n - len(real):] = real
    picks = [np.stack(genuine)[rng.permutation(len(genuine))[: queries // 2]],
             np.stack(strangers)[rng.permutation(len(strangers))[: queries // 4]]]
    picks.append(unit(rng.standard_normal((queries - sum(len(p) for p in picks), dim))))
    kinds = np.concatenate([np.full(len(p), i) for i, p in enumerate(picks)])
    return gallery, np.concatenate(picks), kinds


def exact_top1(gallery: np.ndarray, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, cosine) of each probe's exact best match."""
    best = np.full(len(probes), -np.inf, dtype=np.float32)
    arg = np.zeros(len(probes), dtype=np.int64)
    for start in range(0, len(gallery), 50_000):
        sims = probes @ gallery[start:start + 50_000].T
        top = sims.argmax(axis=1)
        val = sims[np.arange(len(probes)), top]
        better = val > best
        best[better], arg[better] = val[better], top[better] + start
    return arg, best


def every_nth(total: int, wanted: int) -> slice:
    """About `wanted` probes spread over all kinds (the slower indexes get fewer)."""
    return slice(0, total, max(1, total // max(1, wanted)))


def measure(index, probes: np.ndarray, truth: np.ndarray, cpu: bool = True) -> dict:
    for probe in probes[:20]:  # warm caches
        index.search(probe, 10, [PART])
    wall, spent, hits = [], [], []
    for probe, expected in zip(probes, truth):
        started, started_cpu = time.perf_counter(), time.thread_time()
        found = index.search(probe, 10, [PART])
        wall.append((time.perf_counter() - started) * 1000)
        spent.append((time.thread_time() - started_cpu) * 1000)
        hits.append(bool(found) and found[0][0] == expected)
    return {"wall": np.array(wall), "cpu": np.array(spent) if cpu else None, "hits": np.array(hits)}


def recall(hits: np.ndarray, mask: np.ndarray) -> str:
    return f"{hits[mask].mean():.4f} ({int(mask.sum())})" if mask.any() else "-"


def row(name: str, n: int, setting: str, build_s: float, mem_mb: float, m: dict, kinds: np.ndarray,
        passing: np.ndarray) -> str:
    w, c, h = m["wall"], m["cpu"], m["hits"]
    cpu = f"{np.percentile(c, 50):.2f} | {np.percentile(c, 99):.2f}" if c is not None else "- | -"
    every = np.ones(len(h), dtype=bool)
    per_kind = " | ".join(recall(h, kinds == i) for i in range(len(KINDS)))
    return (f"| {name} | {n:,} | {setting} | {build_s:.1f} | {mem_mb:.0f} | {np.percentile(w, 50):.2f} "
            f"| {np.percentile(w, 99):.2f} | {cpu} | **{recall(h, every)}** | {recall(h, passing)} | {per_kind} |")


HEADER = ("| index | N | shortlist | build s | memory MB | p50 ms | p99 ms | CPU p50 ms | CPU p99 ms "
          "| recall@1 raw, all probes | recall@1, probes whose exact top-1 ≥ lowest operating point "
          "| raw: enrolled | raw: strangers | raw: random |\n" + "|---" * 14 + "|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--rerank", default="256,512,1024", help="shortlist lengths re-ranked exactly")
    parser.add_argument("--exact-queries", type=int, default=200, help="probes for the exact-scan row (0: skip)")
    parser.add_argument("--milvus-n", type=int, default=100_000, help="vectors for milvus-lite (0: skip)")
    parser.add_argument("--milvus-queries", type=int, default=200, help="probes for milvus-lite")
    parser.add_argument("--pack", default="default")
    args = parser.parse_args()

    gallery, probes, kinds = dataset(args.n, args.pack, args.queries)
    ids = np.arange(len(gallery), dtype=np.int64)
    lowest = min(OPERATING_POINTS[args.pack].values())
    print(f"# {len(gallery):,} x {gallery.shape[1]} gallery; probes: "
          + ", ".join(f"{int((kinds == i).sum())} {k}" for i, k in enumerate(KINDS))
          + f"; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    truth, truth_cos = exact_top1(gallery, probes)
    passing = truth_cos >= lowest
    for i, k in enumerate(KINDS):
        mask = kinds == i
        print(f"# {k} probes: exact top-1 cosine median {np.median(truth_cos[mask]):.3f}, "
              f"{int((passing & mask).sum())} of {int(mask.sum())} at or above the lowest operating point "
              f"({lowest})", flush=True)
    lines = [HEADER]
    print(HEADER, flush=True)

    def emit(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        embedded = EmbeddedIndex(Path(tmp) / "embedded", gallery.shape[1])
        for start in range(0, len(gallery), 100_000):
            embedded.add(PART, ids[start:start + 100_000], gallery[start:start + 100_000])
        build_s = time.perf_counter() - started
        gc.collect()
        mem_mb = rss_mb() - before
        segment = embedded._segments[PART]
        if segment.shortlist is not None:
            for rerank in [int(r) for r in args.rerank.split(",")]:
                index_module.RERANK = rerank
                emit(row("embedded (PQ fast scan + exact re-rank)", len(gallery), str(rerank), build_s, mem_mb,
                         measure(embedded, probes, truth), kinds, passing))
        if args.exact_queries:
            shortlist, segment.shortlist = segment.shortlist, None  # the same rows, scanned exactly
            sub = every_nth(len(probes), args.exact_queries)
            emit(row("embedded, exact float32 scan", len(gallery), "all", 0.0, mem_mb,
                     measure(embedded, probes[sub], truth[sub]), kinds[sub], passing[sub]))
            segment.shortlist = shortlist
        started = time.perf_counter()
        embedded.mark_synced(0)
        embedded.close()
        save_s = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in (Path(tmp) / "embedded").iterdir()) / 2**20
        del embedded, segment
        gc.collect()
        before = rss_mb()
        started = time.perf_counter()
        reopened = EmbeddedIndex(Path(tmp) / "embedded", gallery.shape[1])
        load_s = time.perf_counter() - started
        assert reopened.count(PART) == len(gallery)
        print(f"# embedded index: saved in {save_s:.1f} s ({size_mb:.0f} MB on disk), loaded on restart in "
              f"{load_s:.1f} s ({rss_mb() - before:.0f} MB)", flush=True)
        reopened.close()
        del reopened
        gc.collect()

        if args.milvus_n:
            n = min(args.milvus_n, len(gallery))
            sub = gallery[len(gallery) - n:]  # the tail holds the real embeddings
            some = every_nth(len(probes), args.milvus_queries)
            sub_truth, sub_cos = exact_top1(sub, probes[some])
            before = rss_mb()
            started = time.perf_counter()
            milvus = MilvusIndex(str(Path(tmp) / "milvus.db"), gallery.shape[1], collection="bench")
            milvus.add(PART, ids[: n], sub)
            milvus.flush()
            build_s = time.perf_counter() - started
            mem_mb = rss_mb() - before  # the part of milvus-lite that runs in this process
            emit(row("milvus-lite (AUTOINDEX)", n, "-", build_s, mem_mb,
                     measure(milvus, probes[some], sub_truth, cpu=False), kinds[some], sub_cos >= lowest))
            milvus.close()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
