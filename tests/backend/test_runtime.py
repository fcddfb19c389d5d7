"""onnxruntime sessions: the execution provider (GPU by one setting) and the thread behaviour."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from face_backend import config, model_store
from face_backend.vision import onnx_graph, runtime


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


@pytest.mark.parametrize("name,size", [("sface", 112), ("arcface-w600k-mbf", 112), ("minifasnet-v2", 80),
                                       ("minifasnet-v1se", 80)])
def test_prelu_is_rewritten_into_the_same_function(fresh_config, name, size):
    """PRelu runs as Relu, Mul and Add (onnx_graph.py: 2x faster SFace); the answers stay the same."""
    path = model_store.resolve(name)
    assert "PRelu" in {node.op_type for node in onnx.load(str(path)).graph.node}
    rewritten = onnx.load_from_string(onnx_graph.optimised(path.read_bytes()))
    assert "PRelu" not in {node.op_type for node in rewritten.graph.node}
    shipped = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ours = runtime.session(path)
    name_in = shipped.get_inputs()[0].name
    faces = {name_in: np.random.default_rng(1).uniform(0, 255, (1, 3, size, size)).astype(np.float32)}
    for theirs, mine in zip(shipped.run(None, faces), ours.run(None, faces)):
        assert np.allclose(theirs, mine, atol=1e-4 * max(1.0, float(np.abs(theirs).max())))


def test_a_detector_runs_on_a_canvas_the_size_of_the_image(fresh_config):
    """YuNet is exported for 640x640; with free_image_size it answers the same there and also runs on
    other canvases, with one output cell per stride step."""
    path = model_store.resolve("yunet")
    shipped = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ours = runtime.session(path, free_image_size=True)
    assert ours.get_inputs()[0].shape[2:] == ["height", "width"]
    rng = np.random.default_rng(2)
    canvas = {"input": rng.uniform(0, 255, (1, 3, 640, 640)).astype(np.float32)}
    for theirs, mine in zip(shipped.run(None, canvas), ours.run(None, canvas)):
        assert np.allclose(theirs, mine, atol=1e-4)
    outputs = [o.name for o in ours.get_outputs()]
    small = dict(zip(outputs, ours.run(None, {"input": rng.uniform(0, 255, (1, 3, 256, 384)).astype(np.float32)})))
    for stride in (8, 16, 32):
        assert small[f"cls_{stride}"].shape[1] == (256 // stride) * (384 // stride)


def _prelu_graph(dtype: np.dtype, elem_type: int) -> onnx.ModelProto:
    """A one-node PRelu graph with per-channel slopes (some above 1, some negative)."""
    slope = onnx.numpy_helper.from_array(np.array([0.25, -0.5, 1.5], dtype=dtype).reshape(3, 1, 1), "slope")
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("PRelu", ["x", "slope"], ["y"])], "prelu",
        [onnx.helper.make_tensor_value_info("x", elem_type, [1, 3, 4, 4])],
        [onnx.helper.make_tensor_value_info("y", elem_type, [1, 3, 4, 4])], [slope])
    return onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])


def test_prelu_rewrite_keeps_the_slopes_type(fresh_config, tmp_path):
    """A float16 graph stays float16 (a float32 constant beside it would not load)."""
    path = tmp_path / "prelu16.onnx"
    onnx.save(_prelu_graph(np.float16, onnx.TensorProto.FLOAT16), str(path))
    x = {"x": np.linspace(-2, 2, 48, dtype=np.float16).reshape(1, 3, 4, 4)}
    shipped = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, x)[0]
    assert "PRelu" not in {n.op_type for n in onnx.load_from_string(onnx_graph.optimised(path.read_bytes())).graph.node}
    assert np.allclose(runtime.session(path).run(None, x)[0], shipped, atol=1e-3)


def test_a_model_with_external_weights_loads_as_shipped(fresh_config, tmp_path):
    """Weights in a file beside the model: no rewrite (it would lose the path they are read from)."""
    path = tmp_path / "prelu_external.onnx"
    onnx.save(_prelu_graph(np.float32, onnx.TensorProto.FLOAT), str(path), save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    assert (tmp_path / "weights.bin").exists()
    assert onnx_graph.optimised(path.read_bytes()) == path.read_bytes()
    x = {"x": np.linspace(-2, 2, 48, dtype=np.float32).reshape(1, 3, 4, 4)}
    expected = np.where(x["x"] > 0, x["x"], x["x"] * np.array([0.25, -0.5, 1.5], dtype=np.float32).reshape(1, 3, 1, 1))
    assert np.allclose(runtime.session(path).run(None, x)[0], expected, atol=1e-6)
