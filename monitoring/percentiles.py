"""Percentiles from the fixed latency histogram (monitoring.models.LATENCY_BUCKETS_MS).

Rollups keep counts per bucket, so any period's percentile is computed by adding bucket counts up
and interpolating linearly inside the bucket holding the rank. The error is bounded by the bucket
width; the open last bucket is capped by the largest latency seen.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from monitoring.models import LATENCY_BUCKETS_MS


def bucket_index(latency_ms: float) -> int:
    """Index of the first bucket whose upper bound is >= latency_ms (Prometheus 'le' semantics)."""
    return bisect_left(LATENCY_BUCKETS_MS, max(0.0, latency_ms))


def merge_buckets(into: list[int], other: Sequence[int]) -> None:
    """Add other's bucket counts into `into` (rows written before a bucket change may be shorter)."""
    for i, n in enumerate(other[: len(into)]):
        into[i] += n


def percentile(buckets: Sequence[int], q: float, max_ms: float | None = None) -> float | None:
    """The q-quantile (0..1) of the histogram, or None when it is empty."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(buckets):
        if n and seen + n >= rank:
            lower = LATENCY_BUCKETS_MS[i - 1] if i else 0.0
            upper = LATENCY_BUCKETS_MS[i]
            if upper == float("inf") or (max_ms is not None and max_ms < upper):
                upper = max(lower, max_ms if max_ms is not None else lower)
            return lower + (upper - lower) * (rank - seen) / n
        seen += n
    return max_ms
