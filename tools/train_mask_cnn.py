"""Train facegate's mask CNN: a small convolutional network over the aligned face, 3 classes.

Offline tool (never run by the product or the tests):

    .venv/bin/pip install torch==2.13.0 onnx   # local CPU wheel; torch is NOT a product dependency
    .venv/bin/python tools/train_mask_cnn.py [--data ../shared/data/mask]

The same data, split and sample weights as the feature head (tools/train_mask.py: the real mask
photos, stratified 80/20 with its seed, plus the synthetic masks drawn on the training split's
unmasked faces); no evaluation set is used. The network sees `face_backend.vision.mask.cnn_blob`
of the align_face 112x112 crop, the product's own input. Each epoch re-draws every training face
with a random small rotation, scale and shift, a mirror half the time, colour and contrast jitter,
and sometimes a lower resolution (many real photos are 60-120 px faces).
Writes face_backend/models/mask_cnn.onnx (softmax in the graph), its report mask_cnn_eval.txt, and
the file's sha256 and size into the model manifest. The report compares, on the held-back
validation photos and synthetic faces, the CNN, the feature head and their average.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from face_backend.model_store import MODELS_DIR  # noqa: E402
from face_backend.vision.mask import CNN_MODEL, CNN_SIDE, MaskHead, cnn_blob, ensemble, mask_features  # noqa: E402
from train_mask import (  # noqa: E402
    SEED, answers_of, mask_data, placement_lines, report, sample_weights, write_report)

EPOCHS = 30
BATCH = 64
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4


class MaskCnn(nn.Module):
    """Four conv blocks (16-32-64-128 channels) down to 4x4, then one linear layer over all of it:
    the 4x4 grid keeps where things are (a mask's top edge above or below the nose)."""

    def __init__(self) -> None:
        super().__init__()

        def block(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(3, 16, 2),  # 32x32
            *block(16, 32), nn.MaxPool2d(2),  # 16x16
            *block(32, 64), nn.MaxPool2d(2),  # 8x8
            *block(64, 128), nn.MaxPool2d(2),  # 4x4
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * (CNN_SIDE // 16) ** 2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class WithSoftmax(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)


def jittered(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random re-drawing of an aligned 112x112 training face (see the module text)."""
    angle, scale = rng.uniform(-10, 10), rng.uniform(0.92, 1.08)
    m = cv2.getRotationMatrix2D((56, 56), angle, scale)
    m[:, 2] += rng.uniform(-5, 5, 2)
    out = cv2.warpAffine(crop, m, (112, 112), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.5:
        out = np.ascontiguousarray(out[:, ::-1])
    if rng.random() < 0.3:
        side = int(rng.integers(24, 56))
        out = cv2.resize(cv2.resize(out, (side, side), interpolation=cv2.INTER_AREA), (112, 112))
    contrast, brightness = rng.uniform(0.75, 1.25), rng.uniform(-25, 25)
    colour = rng.uniform(0.9, 1.1, 3)
    return np.clip((out.astype(np.float32) - 128) * contrast * colour + 128 + brightness, 0, 255).astype(np.uint8)


def blobs(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([cnn_blob(c) for c in crops]))


def train(crops: np.ndarray, y: np.ndarray, weights: np.ndarray, log: list[str]) -> MaskCnn:
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    net = MaskCnn()
    optimiser = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    steps = EPOCHS * -(-len(y) // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, LEARNING_RATE, total_steps=steps)
    labels, w = torch.from_numpy(y.astype(np.int64)), torch.from_numpy(weights.astype(np.float32))
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    for epoch in range(EPOCHS):
        started = time.perf_counter()
        x = blobs(np.array([jittered(c, rng) for c in crops]))
        order = torch.from_numpy(rng.permutation(len(y)))
        net.train()
        total = 0.0
        for i in range(0, len(y), BATCH):
            idx = order[i : i + BATCH]
            loss = (loss_fn(net(x[idx]), labels[idx]) * w[idx]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        log.append(f"  epoch {epoch + 1:>2}: loss {total / len(y):.4f} ({time.perf_counter() - started:.0f} s)")
        print(log[-1], flush=True)
    return net.eval()


def probabilities(net: MaskCnn, crops: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([torch.softmax(net(blobs(crops[i : i + 256])), 1).numpy()
                               for i in range(0, len(crops), 256)]).astype(np.float64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "mask")
    parser.add_argument("--out", type=Path, default=MODELS_DIR / "mask_cnn.onnx")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache")
    args = parser.parse_args()

    d = mask_data(args.data, args.cache)
    s_val = ~d.s_train
    train_crops = np.concatenate([d.crops[d.train], d.s_crops[d.s_train]])
    train_y = np.concatenate([d.y[d.train], d.s_y[d.s_train]])
    log: list[str] = []
    started = time.perf_counter()
    net = train(train_crops, train_y, sample_weights(d.y[d.train], d.s_y[d.s_train]), log)
    fit_s = time.perf_counter() - started

    head = MaskHead.load(MODELS_DIR / "mask_head.npz")
    val_real, val_synth = d.crops[d.val], d.s_crops[s_val]
    cnn_real, cnn_synth = probabilities(net, val_real), probabilities(net, val_synth)
    head_real = head.probabilities(np.array([mask_features(c) for c in val_real]))
    head_synth = head.probabilities(np.array([mask_features(c) for c in val_synth]))
    lines = [
        "facegate mask CNN: 3 classes (no mask, worn correctly, worn incorrectly) over the aligned face (tools/train_mask_cnn.py)",
        f"input: cnn_blob of the align_face 112x112 crop ({CNN_SIDE}x{CNN_SIDE}); conv 16-32-64-128 to 4x4, one linear layer; "
        f"{sum(p.numel() for p in net.parameters())} weights",
        f"data and split as tools/train_mask.py (seed {SEED}): train {len(train_y)} faces (real {len(d.train)}), "
        f"validation real {len(d.val)}, synthetic {int(s_val.sum())}",
        f"training: {EPOCHS} epochs of re-drawn faces, batch {BATCH}, AdamW lr {LEARNING_RATE} one-cycle, "
        f"weight decay {WEIGHT_DECAY}, the feature head's sample weights; {fit_s:.0f} s",
        *log,
    ]
    for name, real, synth in (("CNN", cnn_real, cnn_synth), ("feature head", head_real, head_synth),
                              ("average of both", ensemble(head_real, cnn_real), ensemble(head_synth, cnn_synth))):
        lines += report(d.y[d.val], answers_of(real)[0], f"VALIDATION, real photos, {name}")
        lines += report(d.s_y[s_val], answers_of(synth)[0], f"VALIDATION, synthetic faces, {name}")
        lines += placement_lines(d.s_where[s_val], answers_of(synth)[0])

    torch.onnx.export(WithSoftmax(net), torch.zeros(1, 3, CNN_SIDE, CNN_SIDE), str(args.out),
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "n"}, "probabilities": {0: "n"}}, opset_version=17, dynamo=False)
    session = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    check = session.run(None, {"input": blobs(val_real[:64]).numpy()})[0]
    lines.append(f"onnxruntime vs torch on 64 validation faces: max difference {np.abs(check - cnn_real[:64]).max():.2e}")
    write_report(lines, args.out, CNN_MODEL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
