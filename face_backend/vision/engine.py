"""FaceEngine: the models of one pack, loaded once per process, and the five face operations.

The pack's models come from packs.build; each loads on first use (or warm_up()) under its own
lock, so concurrent requests in the server's thread pool share one session each (onnxruntime
sessions are thread-safe for run()). Liveness and mask are optional: when their files are missing
or their setting is wrong, only their own API fails (5000) and the next call tries again.

Images may be ReducedImages (large JPEGs decoded at 1/2-1/8, see image_io): every Face that
leaves the engine is in original-photo pixels, and the per-face models crop from the reduced array
with the face mapped back onto it (`_on_work`).
"""
from __future__ import annotations

import logging
import threading

import numpy as np

from face_backend.vision.image_io import reduction
from face_backend import model_store
from face_backend.vision.landmarks import SECOND_OPINION_SIDE, SECOND_OPINION_THRESHOLD, second_opinion
from face_backend.vision.liveness import LivenessModel
from face_backend.vision.mask import MaskModel
from face_backend.vision.packs import PACKS, build, pack_name
from face_backend.vision.runtime import side_by_side
from face_backend.vision.subject import subject_face
from face_backend.vision.types import AgeGender, Face, Liveness, Mask

log = logging.getLogger(__name__)

# Part of every embedding recipe (FaceEngine.embedding_recipe): bump it when code changes how a face
# is embedded with the same model files (alignment, crop, the second opinion's rule), so that the
# library counts the faces enrolled before as older ones. 1: the second opinion's averaged landmarks.
EMBEDDING_REVISION = 1


class NoFaceError(Exception):
    """No face in an image (4105); `which` is 1 or 2 for compare, 0 otherwise."""

    def __init__(self, which: int = 0) -> None:
        super().__init__(f"no face found in image {which}" if which else "no face found")
        self.which = which


class FaceEngine:
    """detect, attributes, liveness, mask, compare, embed on BGR np.ndarray images."""

    def __init__(self, pack: str | None = None) -> None:
        self.pack = PACKS[pack_name(pack)]
        self.models = build(self.pack)
        self.detector = self.models.detector
        self.recognizer = self.models.recognizer
        self.age_gender = self.models.age_gender
        # The detector whose landmarks the aligned models also use (vision/landmarks.py), when the pack asks.
        self.second_opinion = self.models.second if self.pack.second_opinion else None

    def liveness_model(self) -> LivenessModel:
        self.models.liveness.prepare()
        return self.models.liveness

    def mask_model(self) -> MaskModel:
        self.models.mask.prepare()
        return self.models.mask

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

    def attributes(self, img: np.ndarray) -> list[tuple[Face, AgeGender]]:
        """(face, gender and age) per face; NoFaceError when none."""
        faces = self._faces(img)
        work, factor, _ = reduction(img)
        found = self.age_gender.predict_faces(work, [self._landmarked(work, _on_work(f, factor)) for f in faces])
        return list(zip(faces, found))

    def liveness(self, img: np.ndarray) -> list[tuple[Face, Liveness]]:
        """(face, verdict and live probability) per face."""
        faces = self._faces(img)
        work, factor, _ = reduction(img)
        model = self.liveness_model()
        # The size rule is about the face in the photo (original pixels, as the reply shows it).
        return [(f, model.predict(work, _on_work(f, factor), min(f.box[2], f.box[3]))) for f in faces]

    def mask(self, img: np.ndarray) -> list[tuple[Face, Mask]]:
        """(face, mask state and probability) per face."""
        faces = self._faces(img)
        work, factor, _ = reduction(img)
        model = self.mask_model()
        # YuNet's points alone: the second opinion gained 1 of 651 mask photos and 2 of 250
        # MaskedFace-Net photos for +18% of the mask API's CPU (docs/DECISIONS.md).
        return [(f, model.predict(work, _on_work(f, factor))) for f in faces]

    def embed(self, img: np.ndarray, face: Face) -> np.ndarray:
        """SFace/ArcFace embedding of a face given in original-photo pixels."""
        work, factor, _ = reduction(img)
        return self.recognizer.embed(work, self._landmarked(work, _on_work(face, factor)))

    @property
    def embedding_recipe(self) -> str:
        """What an embedding depends on besides the photo: the pack, the model files (by sha256),
        the second opinion's settings and the code's EMBEDDING_REVISION. Two embeddings of one face
        made with the same recipe are the same; the library records it per face, to find faces a
        model change left behind (face_backend/library/reembed.py)."""
        models = [self.detector, self.recognizer] + ([self.second_opinion] if self.second_opinion else [])
        files = ",".join(f"{name}:{model_store.entry(name).sha256[:12]}" for model in models for name in model.files)
        opinion = f"{SECOND_OPINION_SIDE}px@{SECOND_OPINION_THRESHOLD}" if self.second_opinion is not None else "off"
        return f"rev={EMBEDDING_REVISION} pack={self.pack.name} models={files} second_opinion={opinion}"

    def _landmarked(self, work: np.ndarray, face: Face) -> Face:
        """`face` (in `work`'s pixels) with the second opinion's landmarks where the pack asks for one:
        the recognizer and the age/gender chip align on them."""
        return face if self.second_opinion is None else second_opinion(work, face, self.second_opinion)

    def subject(self, img: np.ndarray, which: int = 0) -> Face:
        """The face compare uses for this photo (vision.subject); NoFaceError(which) when none."""
        return subject_face(self._faces(img, which), reduction(img)[2])

    def subject_embedding(self, img: np.ndarray, which: int = 0) -> np.ndarray:
        """The embedding of the face compare uses for this photo; NoFaceError(which) when none."""
        return self.subject_embedded(img, which)[1]

    def subject_embedded(self, img: np.ndarray, which: int = 0) -> tuple[Face, np.ndarray]:
        """The face compare uses for this photo and its embedding; NoFaceError(which) when none."""
        face = self.subject(img, which)
        return face, self.embed(img, face)

    def similarity(self, embedding1: np.ndarray, embedding2: np.ndarray) -> float:
        """Calibrated similarity of two embeddings; >= 0.5 means the same person."""
        return self.recognizer.score(float(embedding1 @ embedding2))

    def compare(self, img1: np.ndarray, img2: np.ndarray) -> float:
        """Calibrated similarity of the photos' subjects (vision.subject); >= 0.5 means the same person."""
        (_, embedding1), (_, embedding2) = self.subjects_embedded(img1, img2)
        return self.similarity(embedding1, embedding2)

    def subjects_embedded(self, img1: np.ndarray, img2: np.ndarray) -> list[tuple[Face, np.ndarray]]:
        """subject_embedded of both photos of a compare, side by side (runtime.side_by_side): with
        one onnxruntime thread per run (config.onnx_threads' default) two photos on two threads use
        two cores where one could not. The first photo without a face, in order, raises
        NoFaceError(which), as one after the other would."""
        return side_by_side([lambda: self.subject_embedded(img1, 1), lambda: self.subject_embedded(img2, 2)])

    # -- lifecycle -------------------------------------------------------------------------------
    def warm_up(self, optional: bool = True) -> None:
        """Load every model now (server start), so the first request does not pay for it."""
        for model in self.models.required:
            model.prepare()
        if optional:
            for model in self.models.optional:
                try:
                    model.prepare()
                except Exception as exc:  # optional model missing: its API answers 5000
                    log.warning("optional model not available: %s", exc)

    def health(self) -> dict:
        models = []
        for model in (*self.models.required, *self.models.optional):
            try:  # a model not loaded (yet, or its file is missing) still lists what it would load
                models += model.info()
            except Exception as exc:
                models.append({"name": f"{type(model).__name__} (unavailable)", "file": "", "license": "",
                               "loaded": False, "error": str(exc)[:200]})
        return {"status": "ok", "pack": self.pack.name, "pack_notice": self.pack.notice, "models": models}


def _on_work(face: Face, factor: int) -> Face:
    """A face in original pixels mapped onto an image decoded at 1/factor (landmarks exact)."""
    if factor == 1:
        return face
    x, y, w, h = face.box
    x1, y1 = round(x / factor), round(y / factor)
    box = (x1, y1, max(1, round((x + w) / factor) - x1), max(1, round((y + h) / factor) - y1))
    return Face(box, face.score, face.landmarks / factor)


_ENGINES: dict[str, FaceEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(pack: str | None = None) -> FaceEngine:
    """The process-wide engine for a pack (models are loaded once per process)."""
    name = pack_name(pack)
    with _ENGINES_LOCK:
        if name not in _ENGINES:
            _ENGINES[name] = FaceEngine(name)
        return _ENGINES[name]
