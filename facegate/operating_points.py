"""Measured operating points of each model pack, and the false accept rate a compare score implies
(pure; one definition for the face library's "unknown" threshold and the console's FAR line).

bench/operating_points.py over all 6.8M cross-identity pairs of the 3,691 LFW eval photos
(docs/BENCHMARKS.md, "Compare past 99.3% (LFW) and 99% (Chinese pairs)": the points of today's
embeddings, aligned on two detectors' landmarks). Provisional: one data set, Western faces.
A pack without measured points (insightface, so far) has none here: the library then uses its
recognizer's decision threshold, and no FAR is claimed for its scores.
"""
from __future__ import annotations

from dataclasses import dataclass

OPERATING_POINT_NAMES = ("1e-3", "1e-4", "1e-5")
DEFAULT_OPERATING_POINT = "1e-4"


@dataclass(frozen=True)
class OperatingPoint:
    cosine: float  # impostor pairs at or above this cosine: the named false accept rate
    # The same threshold on the compare API's calibrated scale: recognizer.score(cosine) of the rounded
    # cosine the library applies (the benchmark's table shows the score of the unrounded quantile).
    score: float


MEASURED: dict[str, dict[str, OperatingPoint]] = {
    "default": {"1e-3": OperatingPoint(0.369, 0.5150), "1e-4": OperatingPoint(0.424, 0.6479),
                "1e-5": OperatingPoint(0.482, 0.7667)},
}
# The cosine thresholds alone, as the library's search compares them.
OPERATING_POINTS: dict[str, dict[str, float]] = {
    pack: {name: point.cosine for name, point in points.items()} for pack, points in MEASURED.items()
}


def far_band(score: float, pack: str) -> str | None:
    """The smallest measured FAR whose threshold `score` reaches ("1e-5", "1e-4", "1e-3"); "" when it
    reaches none (more than 1e-3 of strangers score this high); None when the pack has no measurements."""
    points = MEASURED.get(pack)
    if not points:
        return None
    reached = [name for name, point in points.items() if score >= point.score]
    return min(reached, key=float, default="")
