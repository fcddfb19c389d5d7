"""Operating points of a model pack: the cosine similarity at which impostors are accepted at a
false accept rate (FAR) of 1e-3, 1e-4 and 1e-5, and what they mean for 1:N search.

Impostor pairs: every pair of eval photos of two different identities (LFW: ~3,700 photos, ~6.8M
pairs; the curated Chinese set: 116 photos, ~6,600 pairs, too few for FAR < 1e-3). Genuine pairs:
every pair of photos of one identity. For each FAR: the threshold (the (1 - FAR) quantile of the
impostor cosines), the true accept rate of the genuine pairs at it, and its calibrated score.
Identification (LFW): one photo enrolled per identity that has several, every other photo of them
searched (rank-1 rate and the share answered above the threshold), and the photos of identities
with a single photo searched as strangers (share answered "unknown").

usage: .venv/bin/python bench/operating_points.py [--pack default]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import eval_embeddings  # noqa: E402
from face_backend.vision.packs import PACKS  # noqa: E402

FARS = (1e-3, 1e-4, 1e-5)


def pair_scores(identities: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(impostor cosines, genuine cosines) over every unordered pair."""
    sims = vectors @ vectors.T
    upper = np.triu(np.ones(sims.shape, dtype=bool), k=1)
    same = identities[:, None] == identities[None, :]
    return sims[upper & ~same], sims[upper & same]


def identification(identities: np.ndarray, vectors: np.ndarray, thresholds: dict[float, float]) -> list[str]:
    counts: dict[str, int] = {}
    for ident in identities:
        counts[ident] = counts.get(ident, 0) + 1
    enrolled: dict[str, int] = {}
    probes, strangers = [], []
    for i, ident in enumerate(identities):
        if counts[ident] == 1:
            strangers.append(i)
        elif ident not in enrolled:
            enrolled[ident] = i
        else:
            probes.append(i)
    gallery_ids = list(enrolled)
    gallery = vectors[[enrolled[g] for g in gallery_ids]]
    probe_sims = vectors[probes] @ gallery.T
    best = probe_sims.argmax(axis=1)
    best_cos = probe_sims.max(axis=1)
    right = np.array([gallery_ids[b] == identities[p] for b, p in zip(best, probes)])
    stranger_best = (vectors[strangers] @ gallery.T).max(axis=1)
    lines = [f"gallery {len(gallery_ids)} identities (one photo each), {len(probes)} probes of them, "
             f"{len(strangers)} stranger photos", f"rank-1 identification (no threshold): {right.mean():.4f}",
             "| FAR | threshold | probes named right | probes answered unknown | strangers answered unknown |",
             "|---|---|---|---|---|"]
    for far, thr in thresholds.items():
        named = (right & (best_cos >= thr)).mean()
        unknown = (best_cos < thr).mean()
        lines.append(f"| {far:g} | {thr:.3f} | {named:.4f} | {unknown:.4f} | {(stranger_best < thr).mean():.4f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="default")
    args = parser.parse_args()
    recognizer = PACKS[args.pack].recognizer()
    out: list[str] = []
    lfw_thresholds: dict[float, float] = {}
    for name in eval_embeddings.SETS:
        data = eval_embeddings.load(name, args.pack)
        impostor, genuine = pair_scores(data["identities"], data["vectors"].astype(np.float32))
        out += [f"## {name} ({args.pack}): {len(data['vectors'])} photos, {len(impostor):,} impostor pairs, "
                f"{len(genuine):,} genuine pairs", "| FAR | cosine threshold | score | TAR (genuine accepted) |",
                "|---|---|---|---|"]
        for far in FARS:
            if far * len(impostor) < 10:
                out.append(f"| {far:g} | (fewer than 10 impostor pairs above it: not measurable) | | |")
                continue
            thr = float(np.quantile(impostor, 1 - far))
            if name == "lfw":
                lfw_thresholds[far] = thr
            out.append(f"| {far:g} | {thr:.3f} | {recognizer.score(thr):.4f} | {(genuine >= thr).mean():.4f} |")
    out += ["## identification on lfw", *identification(*(lambda d: (d["identities"], d["vectors"]))(
        eval_embeddings.load("lfw", args.pack)), lfw_thresholds)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
