"""onnxruntime sessions: the execution provider (GPU by one setting) and the thread behaviour."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from face_backend import config, model_store
from face_backend.vision import runtime


@pytest.fixture()
def fresh_config():
    config.get.cache_clear()
    yield
    config.get.cache_clear()


@pytest.mark.parametrize("force_cpu,expected", [("", ["CUDAExecutionProvider", "CPUExecutionProvider"]),
                                                ("1", ["CPUExecutionProvider"])])
def test_cuda_is_chosen_when_the_build_has_it_unless_forced_to_cpu(monkeypatch, fresh_config, force_cpu, expected):
    # What an onnxruntime-gpu build reports; CUDA itself is untested here (no GPU: README, "GPU").
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setenv("FACEGATE_ONNX_CPU", force_cpu)
    assert runtime.providers() == expected


def test_cpu_build_uses_the_cpu(fresh_config):
    assert runtime.providers()[-1] == "CPUExecutionProvider"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert runtime.providers() == ["CPUExecutionProvider"]


def test_sessions_do_not_spin_waiting_for_work(fresh_config):
    """Spinning intra-op threads took the cores other requests needed (docs/DECISIONS.md)."""
    session = runtime.session(model_store.resolve("yunet"))
    assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_weights_listed_as_inputs_become_constants_with_the_same_outputs(fresh_config):
    """SFace's ONNX lists its weights as graph inputs, which keeps onnxruntime from folding them
    (face_backend/vision/onnx_graph.py); our session has none to override and answers the same."""
    path = model_store.resolve("sface")
    shipped = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ours = runtime.session(path)
    assert len(shipped.get_overridable_initializers()) > 100 and ours.get_overridable_initializers() == []
    face = {"data": np.random.default_rng(0).uniform(0, 255, (1, 3, 112, 112)).astype(np.float32)}
    assert np.allclose(shipped.run(None, face)[0], ours.run(None, face)[0], atol=1e-4)
    detector = model_store.resolve("yunet")  # nothing to change: loaded from its path as it is
    assert runtime.session(detector).get_overridable_initializers() == []
