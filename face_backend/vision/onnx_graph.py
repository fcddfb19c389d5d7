"""Rewrites of an ONNX graph before onnxruntime loads it; each one leaves the outputs as they were.

- Weights listed as graph inputs become plain constants. Older exporters (SFace 2021dec among
  them) list every weight as a graph input too; onnxruntime must then treat each one as a value a
  caller could override, so it cannot fold the BatchNorms into the convolutions. We never feed
  weights.
- PRelu becomes `a*x + (1-a)*Relu(x)`, the same function. onnxruntime's PRelu with per-channel
  slopes is slow on the CPU and sits outside its blocked convolution layout: in SFace the 27
  PRelus took 17.8 of 35.5 ms per face, more than every convolution together. Rewritten, the Mul
  and Add fuse into the convolutions: SFace 2.4x faster on one thread (bench/graph_rewrites.py).
- `free_image_size`: the height and width of a 4-d input become named (free) dimensions, so a
  detector exported for one canvas (YuNet: 640x640) runs on a canvas the size of the image.
"""
from __future__ import annotations

import onnx
from onnx import helper, numpy_helper


def optimised(raw: bytes, free_image_size: bool = False) -> bytes:
    """The model's bytes after the rewrites that apply to it (`raw` itself when none does)."""
    model = onnx.load_from_string(raw)
    if any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer):
        return raw  # weights in files beside the model: loaded from its path, as shipped
    changed = _weights_not_inputs(model.graph)
    changed = _prelu_as_relu(model.graph) or changed
    if free_image_size:
        changed = _free_image_size(model.graph) or changed
    return model.SerializeToString() if changed else raw


def _weights_not_inputs(graph: onnx.GraphProto) -> bool:
    weights = {init.name for init in graph.initializer}
    kept = [value for value in graph.input if value.name not in weights]
    if len(kept) == len(graph.input):
        return False
    del graph.input[:]
    graph.input.extend(kept)
    return True


def _prelu_as_relu(graph: onnx.GraphProto) -> bool:
    weights = {init.name: init for init in graph.initializer}
    nodes: list[onnx.NodeProto] = []
    changed = False
    for node in graph.node:
        slope = weights.get(node.input[1]) if node.op_type == "PRelu" and len(node.input) == 2 else None
        if slope is None:  # a slope computed at run time: keep the PRelu
            nodes.append(node)
            continue
        x, a, y = node.input[0], node.input[1], node.output[0]
        rest = f"{y}/one_minus_slope"
        slopes = numpy_helper.to_array(slope)
        graph.initializer.append(numpy_helper.from_array((1 - slopes).astype(slopes.dtype), rest))
        nodes += [helper.make_node("Relu", [x], [f"{y}/relu"]),
                  helper.make_node("Mul", [f"{y}/relu", rest], [f"{y}/positive"]),
                  helper.make_node("Mul", [x, a], [f"{y}/sloped"]),
                  helper.make_node("Add", [f"{y}/positive", f"{y}/sloped"], [y])]
        changed = True
    if changed:
        del graph.node[:]
        graph.node.extend(nodes)
    return changed


def _free_image_size(graph: onnx.GraphProto) -> bool:
    changed = False
    for value in graph.input:
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            continue
        for dim, name in zip(dims[2:], ("height", "width")):
            if dim.dim_param != name:
                dim.dim_param = name  # setting the name clears the fixed value (a protobuf oneof)
                changed = True
    if changed:  # shapes recorded for the fixed size would contradict the new ones
        del graph.value_info[:]
        for value in graph.output:
            value.type.tensor_type.ClearField("shape")
    return changed
