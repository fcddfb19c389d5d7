"""onnxruntime sessions, values built once per process, and the base class of every model."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Generic, TypeVar

import onnxruntime as ort

from face_backend import config, model_store
from face_backend.vision.onnx_graph import optimised

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


def session_options(threads: int) -> ort.SessionOptions:
    """Quiet logging (the SFace graph warns about every initializer), `threads` intra-op threads
    (0: onnxruntime's choice), and threads that do not spin."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads > 0:
        options.intra_op_num_threads = threads
    # onnxruntime's intra-op threads spin while they wait for work by default. With several request
    # threads (and processes) on the same cores the spinning took the CPU the other requests needed:
    # a YuNet run cost 15 ms of CPU instead of 6.5, an SFace embedding 50 instead of 26 (DECISIONS.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def session(path: Path, free_image_size: bool = False) -> ort.InferenceSession:
    """An inference session on the rewritten graph (vision/onnx_graph.py), with session_options.

    `free_image_size`: the model takes images of any height and width (detectors).
    """
    options = session_options(config.get().onnx_threads)
    raw = path.read_bytes()
    try:
        model = optimised(raw, free_image_size)
        if model is not raw:
            return ort.InferenceSession(model, sess_options=options, providers=providers())
    except Exception:  # noqa: BLE001 - a graph the rewrites cannot handle still runs as shipped
        log.warning("could not rewrite the graph of %s; it runs as shipped", path.name, exc_info=True)
    # From its path, as shipped (a model could name external data files relative to it).
    return ort.InferenceSession(str(path), sess_options=options, providers=providers())


def side_by_side(calls: list[Callable[[], T]]) -> list[T]:
    """Each call's result, in order, the calls run at once: the first on this thread, each other on
    a thread of its own (a thread costs ~0.1 ms, a model run several). All calls finish before
    the first failure, in order, is raised, so no thread outlives the request."""
    results: list = [None] * len(calls)
    failures: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, on the caller's thread
            failures[i] = exc

    others = [threading.Thread(target=run, args=(i,), name="facegate-side", daemon=True) for i in range(1, len(calls))]
    for thread in others:
        thread.start()
    if calls:
        run(0)
    for thread in others:
        thread.join()
    for failure in failures:
        if failure is not None:
            raise failure
    return results


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
    free_image_size = False  # see session()

    def __init__(self) -> None:
        self._value: Once[T] = Once(lambda: self._load([model_store.resolve(f) for f in self.files]))

    def _load(self, paths: list[Path]) -> T:
        return [session(path, self.free_image_size) for path in paths]  # type: ignore[return-value]

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
