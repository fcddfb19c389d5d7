"""onnxruntime sessions, values built once per process, and the base class of every model."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Generic, TypeVar

import onnxruntime as ort

from face_backend import config, model_store
from face_backend.vision.onnx_graph import weights_not_inputs

log = logging.getLogger(__name__)

T = TypeVar("T")


def providers() -> list[str]:
    """CUDA first when this onnxruntime build has it (and FACEGATE_ONNX_CPU is not set), then CPU."""
    available = ort.get_available_providers()
    chosen = []
    if "CUDAExecutionProvider" in available and not config.get().onnx_cpu:
        chosen.append("CUDAExecutionProvider")
    chosen.append("CPUExecutionProvider")
    return chosen


def session(path: Path) -> ort.InferenceSession:
    """An inference session with quiet logging (the SFace graph warns about every initializer)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    threads = config.get().onnx_threads
    if threads > 0:
        options.intra_op_num_threads = threads
    # onnxruntime's intra-op threads spin while they wait for work by default. With several request
    # threads (and processes) on the same cores the spinning took the CPU the other requests needed:
    # a YuNet run cost 15 ms of CPU instead of 6.5, an SFace embedding 50 instead of 26 (DECISIONS.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    raw = path.read_bytes()
    try:
        model = weights_not_inputs(raw)
    except (ValueError, IndexError):  # not the protobuf layout expected: load the file as it is
        log.warning("could not read the graph of %s; weights stay graph inputs", path.name)
        model = raw
    # The path when nothing changed (a model could name external data files relative to it).
    return ort.InferenceSession(str(path) if model is raw else model, sess_options=options, providers=providers())


class Once(Generic[T]):
    """A value built on first use, once per process, under a lock: model sessions and heads.

    After the first build, get() reads without the lock, so requests never queue on it.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value


class ManifestModel(Generic[T]):
    """The shape every model has (as insightface's model_zoo): `name`, `license`, `prepare()`,
    `info()`; its files come from the model manifest (model_store), loaded on first use, once.

    Subclasses list their manifest names in `files` and build what they run from the verified
    paths in `_load` (default: one onnxruntime session per file); `_loaded()` returns that.
    """

    name = ""
    files: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._value: Once[T] = Once(lambda: self._load([model_store.resolve(f) for f in self.files]))

    def _load(self, paths: list[Path]) -> T:
        return [session(path) for path in paths]  # type: ignore[return-value]

    def _loaded(self) -> T:
        return self._value.get()

    @property
    def loaded(self) -> bool:
        return self._value.loaded

    @property
    def license(self) -> str:
        return "; ".join(dict.fromkeys(model_store.entry(f).license for f in self.files))

    def prepare(self) -> None:
        self._value.get()

    def info(self) -> list[dict]:
        """One entry per file: name, file, license, source, loaded (for /health and the CLI)."""
        out = []
        for name in self.files:
            item = model_store.entry(name)
            out.append({"name": self.name if len(self.files) == 1 else f"{self.name}: {item.name}",
                        "file": item.file, "license": item.license, "source": item.source or "",
                        "loaded": self.loaded})
        return out


class OnnxModel(ManifestModel[list[ort.InferenceSession]]):
    """A model of one ONNX file."""

    @property
    def _session(self) -> ort.InferenceSession:
        return self._loaded()[0]
