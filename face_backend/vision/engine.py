"""FaceEngine: the models of one pack, loaded once per process, and the five face operations.

Models load lazily (first use, or warm_up()) under per-model locks, so concurrent requests in the
server's thread pool share one session each (onnxruntime sessions are thread-safe for run()).
Liveness and mask live in their own modules; they are imported lazily so detection, attributes
and compare work even where those modules or their model files are missing.

Images may be ReducedImages (large JPEGs decoded at 1/2-1/8, see image_io): every Face that
leaves the engine is in original-photo pixels, and the per-face models crop from the reduced array
with the face mapped back onto it (`_on_work`).
"""
from __future__ import annotations

import logging
import threading
from typing import Protocol, TypeVar

import cv2
import numpy as np

from face_backend.vision.attributes import AgeGenderModel
from face_backend.vision.image_io import reduction
from face_backend.vision.liveness import LivenessModel
from face_backend.vision.mask import MaskModel
from face_backend.vision.packs import PACKS, pack_name
from face_backend.vision.runtime import Once
from face_backend.vision.subject import subject_face
from face_backend.vision.types import Face

log = logging.getLogger(__name__)

LIVE = "活体人脸"
SPOOF = "非活体人脸"
UNCLEAR = "人脸清晰度较差，无法判断"
# A face is too unclear to judge when its box is smaller than this on its short side, or when the
# Laplacian variance of its 112x112 aligned crop (a sharpness measure) is below the limit.
MIN_LIVENESS_SIDE = 40
MIN_SHARPNESS = 20.0  # blurred background faces in our photos measure 14-18, sharp ones 50+
LIVE_THRESHOLD = 0.5


class NoFaceError(Exception):
    """No face in an image (4105); `which` is 1 or 2 for compare, 0 otherwise."""

    def __init__(self, which: int = 0) -> None:
        super().__init__(f"no face found in image {which}" if which else "no face found")
        self.which = which


class FaceEngine:
    """detect, attributes, liveness, mask, compare, embed on BGR np.ndarray images."""

    def __init__(self, pack: str | None = None) -> None:
        self.pack = PACKS[pack_name(pack)]
        self.detector = self.pack.detector()
        self.recognizer = self.pack.recognizer()
        self.age_gender = AgeGenderModel()
        # Built on first use: a missing or misconfigured model fails only its own API (5000),
        # and the next call tries again.
        self._liveness: Once[LivenessModel] = Once(lambda: _prepared(LivenessModel()))
        self._mask: Once[MaskModel] = Once(lambda: _prepared(MaskModel()))

    def liveness_model(self) -> LivenessModel:
        return self._liveness.get()

    def mask_model(self) -> MaskModel:
        return self._mask.get()

    # -- operations ------------------------------------------------------------------------------
    def detect(self, img: np.ndarray) -> list[Face]:
        """Faces in original-photo pixels, largest first."""
        work, factor, size = reduction(img)
        return self.detector.detect(work, factor, size)

    def _faces(self, img: np.ndarray, which: int = 0) -> list[Face]:
        faces = self.detect(img)
        if not faces:
            raise NoFaceError(which)
        return faces

    def attributes(self, img: np.ndarray) -> list[tuple[Face, str, str]]:
        """(face, gender, age) per face; NoFaceError when none."""
        faces = self._faces(img)
        work, factor, _ = reduction(img)
        found = self.age_gender.predict(work, [_on_work(f, factor) for f in faces])
        return [(f, g, a) for f, (g, a) in zip(faces, found)]

    def liveness(self, img: np.ndarray) -> list[tuple[Face, str, float]]:
        """(face, FaceAntiSpoofing text, live probability) per face."""
        faces = self._faces(img)
        work, factor, _ = reduction(img)
        model = self.liveness_model()
        out = []
        for face in faces:
            on_work = _on_work(face, factor)
            prob = float(model.get(work, on_work.box))
            # The size rule is about the face in the photo (original pixels, as the reply shows
            # it); sharpness is measured on the pixels the model actually saw.
            if min(face.box[2], face.box[3]) < MIN_LIVENESS_SIDE or sharpness(work, on_work) < MIN_SHARPNESS:
                label = UNCLEAR
            else:
                label = LIVE if prob >= LIVE_THRESHOLD else SPOOF
            out.append((face, label, prob))
        return out

    def mask(self, img: np.ndarray) -> list[tuple[Face, str, float]]:
        """(face, "wearing"/"not_wearing"/"incorrect", score) per face."""
        faces = self._faces(img)
        work, factor, _ = reduction(img)
        model = self.mask_model()
        return [(f, *model.get(work, _on_work(f, factor))) for f in faces]

    def embed(self, img: np.ndarray, face: Face) -> np.ndarray:
        """SFace/ArcFace embedding of a face given in original-photo pixels."""
        work, factor, _ = reduction(img)
        return self.recognizer.embed(work, _on_work(face, factor))

    def compare(self, img1: np.ndarray, img2: np.ndarray) -> float:
        """Calibrated similarity of the photos' subjects (vision.subject); >= 0.5 means the same person."""
        face1 = subject_face(self._faces(img1, 1), reduction(img1)[2])
        face2 = subject_face(self._faces(img2, 2), reduction(img2)[2])
        cosine = float(self.embed(img1, face1) @ self.embed(img2, face2))
        return self.recognizer.score(cosine)

    # -- lifecycle -------------------------------------------------------------------------------
    def warm_up(self, optional: bool = True) -> None:
        """Load every model now (server start), so the first request does not pay for it."""
        self.detector.prepare()
        self.recognizer.prepare()
        self.age_gender.prepare()
        if optional:
            for loader in (self.liveness_model, self.mask_model):
                try:
                    loader()
                except Exception as exc:  # optional model missing: its API answers 5000
                    log.warning("optional model not available: %s", exc)

    def health(self) -> dict:
        models = [self.detector.info(), self.recognizer.info(), *self.age_gender.info()]
        for once, cls in ((self._liveness, LivenessModel), (self._mask, MaskModel)):
            if once.loaded:
                models += [{**m, "loaded": True} for m in once.get().info()]
                continue
            try:  # not loaded (yet, or its file is missing): still list what it would load
                models += [{**m, "loaded": False} for m in cls().info()]
            except Exception as exc:
                models.append({"name": f"{cls.__name__} (unavailable)", "file": "", "license": "",
                               "loaded": False, "error": str(exc)[:200]})
        return {"status": "ok", "pack": self.pack.name, "pack_notice": self.pack.notice, "models": models}


class _Preparable(Protocol):
    def prepare(self) -> None: ...


T = TypeVar("T", bound=_Preparable)


def _prepared(model: T) -> T:
    model.prepare()
    return model


def _on_work(face: Face, factor: int) -> Face:
    """A face in original pixels mapped onto an image decoded at 1/factor (landmarks exact)."""
    if factor == 1:
        return face
    x, y, w, h = face.box
    x1, y1 = round(x / factor), round(y / factor)
    box = (x1, y1, max(1, round((x + w) / factor) - x1), max(1, round((y + h) / factor) - y1))
    return Face(box, face.score, face.landmarks / factor)


def sharpness(img: np.ndarray, face: Face) -> float:
    """Variance of the Laplacian of the face's aligned 112x112 grey crop."""
    from face_backend.vision.align import align_face

    crop = cv2.cvtColor(align_face(img, face.landmarks, 112), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


_ENGINES: dict[str, FaceEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(pack: str | None = None) -> FaceEngine:
    """The process-wide engine for a pack (models are loaded once per process)."""
    name = pack_name(pack)
    with _ENGINES_LOCK:
        if name not in _ENGINES:
            _ENGINES[name] = FaceEngine(name)
        return _ENGINES[name]
