"""Export the Silent-Face MiniFASNet liveness ensemble (Apache-2.0) from PyTorch state dicts to ONNX.

Offline tool, run by a developer, never by the product or the tests:

    .venv/bin/pip install torch==2.13.0          # local CPU wheel; torch is NOT a product dependency
    FACEGATE_MODEL_MIRROR=../shared/models .venv/bin/python tools/export_minifasnet.py

The networks are rebuilt here from the Silent-Face-Anti-Spoofing repository's MiniFASNet design
(minivision-ai, src/model_lib/MiniFASNet.py): a MobileFaceNet-style stack of depthwise-separable
blocks, with squeeze-and-excitation on the last block of each residual stage in the "SE" variant.
The channel widths of the pruned models are read from the state dict's shapes, so one builder
serves both V2 and V1SE. The training-only Fourier branch (`FTGenerator.*`) is ignored.

Writes face_backend/models/minifasnet_v2_2.7_80x80.onnx and minifasnet_v1se_4.0_80x80.onnx, checks
that onnxruntime gives the same softmax as torch on real crops and on random input, and prints
the sha256 of sources and outputs for face_backend/models/manifest.json.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend import model_store  # noqa: E402

# (manifest name of the .pth source, output ONNX file)
EXPORTS = [
    ("minifasnet-v2-pth", "minifasnet_v2_2.7_80x80.onnx"),
    ("minifasnet-v1se-pth", "minifasnet_v1se_4.0_80x80.onnx"),
]
INPUT_SIZE = 80
OPSET = 17


class ConvBlock(nn.Module):
    """conv → BN → PReLU (Silent-Face `Conv_block`); `with_prelu=False` is their `Linear_block`."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, groups: int = 1,
                 with_prelu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        if with_prelu:
            self.prelu = nn.PReLU(c_out)
        self.with_prelu = with_prelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return self.prelu(x) if self.with_prelu else x


class SEModule(nn.Module):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, reduced, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(reduced)
        self.fc2 = nn.Conv2d(reduced, channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.mean(dim=(2, 3), keepdim=True)
        w = torch.relu(self.bn1(self.fc1(w)))
        return x * torch.sigmoid(self.bn2(self.fc2(w)))


class DepthWise(nn.Module):
    """1×1 expand → 3×3 depthwise → 1×1 linear projection, optional residual (+SE before the add)."""

    def __init__(self, c_in: int, c_mid: int, c_out: int, stride: int, residual: bool,
                 se_reduced: int | None = None) -> None:
        super().__init__()
        self.conv = ConvBlock(c_in, c_mid, 1, 1, 0)
        self.conv_dw = ConvBlock(c_mid, c_mid, 3, stride, 1, groups=c_mid)
        self.project = ConvBlock(c_mid, c_out, 1, 1, 0, with_prelu=False)
        self.residual = residual
        if se_reduced is not None:
            self.se_module = SEModule(c_out, se_reduced)
        self.with_se = se_reduced is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.conv_dw(self.conv(x)))
        if not self.residual:
            return y
        if self.with_se:
            y = self.se_module(y)
        return x + y


class Residual(nn.Module):
    def __init__(self, blocks: list[DepthWise]) -> None:
        super().__init__()
        self.model = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def _depthwise_from(sd: dict, prefix: str, stride: int, residual: bool) -> DepthWise:
    c_mid, c_in = sd[f"{prefix}.conv.conv.weight"].shape[:2]
    c_out = sd[f"{prefix}.project.conv.weight"].shape[0]
    se_key = f"{prefix}.se_module.fc1.weight"
    se_reduced = sd[se_key].shape[0] if se_key in sd else None
    return DepthWise(c_in, c_mid, c_out, stride, residual, se_reduced)


def _residual_from(sd: dict, prefix: str) -> Residual:
    count = 0
    while f"{prefix}.model.{count}.conv.conv.weight" in sd:
        count += 1
    return Residual([_depthwise_from(sd, f"{prefix}.model.{i}", 1, True) for i in range(count)])


class MiniFASNet(nn.Module):
    """Silent-Face MiniFASNet (V1/V2/V1SE/V2SE), widths taken from a state dict.

    80×80 input: four stride-2 stages bring it to 5×5, which the 5×5 depthwise conv_6_dw pools to
    1×1; then a 512→128 embedding with BN and a 3-class linear head (index 1 = live).
    """

    def __init__(self, sd: dict) -> None:
        super().__init__()
        c1 = sd["conv1.conv.weight"].shape[0]
        self.conv1 = ConvBlock(3, c1, 3, 2, 1)
        self.conv2_dw = ConvBlock(c1, c1, 3, 1, 1, groups=c1)
        self.conv_23 = _depthwise_from(sd, "conv_23", 2, False)
        self.conv_3 = _residual_from(sd, "conv_3")
        self.conv_34 = _depthwise_from(sd, "conv_34", 2, False)
        self.conv_4 = _residual_from(sd, "conv_4")
        self.conv_45 = _depthwise_from(sd, "conv_45", 2, False)
        self.conv_5 = _residual_from(sd, "conv_5")
        c6_in = sd["conv_6_sep.conv.weight"].shape[1]
        c6 = sd["conv_6_sep.conv.weight"].shape[0]
        kernel = sd["conv_6_dw.conv.weight"].shape[-1]
        self.conv_6_sep = ConvBlock(c6_in, c6, 1, 1, 0)
        self.conv_6_dw = ConvBlock(c6, c6, kernel, 1, 0, groups=c6, with_prelu=False)
        emb, flat = sd["linear.weight"].shape
        self.linear = nn.Linear(flat, emb, bias=False)
        self.bn = nn.BatchNorm1d(emb)
        self.prob = nn.Linear(emb, sd["prob.weight"].shape[0], bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in (self.conv1, self.conv2_dw, self.conv_23, self.conv_3, self.conv_34, self.conv_4,
                      self.conv_45, self.conv_5, self.conv_6_sep, self.conv_6_dw):
            x = stage(x)
        x = self.bn(self.linear(torch.flatten(x, 1)))
        # Softmax inside the graph: the product reads probabilities directly.
        return torch.softmax(self.prob(x), dim=1)


def load_state_dict(path: Path) -> dict:
    raw = torch.load(path, map_location="cpu", weights_only=True)
    sd = {k.removeprefix("module."): v for k, v in raw.items()}
    return {k: v for k, v in sd.items() if not k.startswith("FTGenerator.")}


def build(path: Path) -> MiniFASNet:
    sd = load_state_dict(path)
    net = MiniFASNet(sd)
    net.load_state_dict(sd, strict=True)  # every remaining key must match a parameter and vice versa
    return net.eval()


def sample_inputs() -> np.ndarray:
    """Real 80×80 crops of the three liveness photos plus random input, BGR float 0–255, NCHW."""
    import cv2

    crops = []
    for image in sorted((REPO.parent / "shared" / "data" / "liveness").glob("*.jpg")):
        img = cv2.imread(str(image))
        crops.append(cv2.resize(img, (INPUT_SIZE, INPUT_SIZE)).transpose(2, 0, 1))
    rng = np.random.default_rng(0)
    crops.append(rng.uniform(0, 255, (3, INPUT_SIZE, INPUT_SIZE)))
    return np.stack(crops).astype(np.float32)


def export(net: MiniFASNet, out: Path) -> None:
    dummy = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    torch.onnx.export(
        net, (dummy,), str(out), dynamo=False, opset_version=OPSET,
        input_names=["input"], output_names=["prob"],
        dynamic_axes={"input": {0: "batch"}, "prob": {0: "batch"}},
    )


def check(net: MiniFASNet, out: Path, inputs: np.ndarray) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": inputs})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(inputs)).numpy()
    diff = float(np.abs(got - want).max())
    if diff > 1e-4:
        raise SystemExit(f"{out.name}: onnxruntime differs from torch by {diff}")
    return diff


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    inputs = sample_inputs()
    for source_name, out_file in EXPORTS:
        source = model_store.resolve(source_name)
        net = build(source)
        out = model_store.MODELS_DIR / out_file
        export(net, out)
        diff = check(net, out, inputs)
        print(f"{out_file}: bytes={out.stat().st_size} sha256={sha256_of(out)} "
              f"source={source.name} source_sha256={sha256_of(source)} max|onnx-torch|={diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
