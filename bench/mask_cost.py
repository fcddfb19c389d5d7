"""Cost of the mask API per image: this tree's mask model against the one at another git revision.

Every photo goes through `face_backend.api.handle("mask", ...)` twice in one process, once with
each head, alternating which goes first; CPU time (process_time: robust to other load on a shared
machine) and wall time are summed per head. The other revision's mask module and head file are
read with `git show` into a temporary folder (the CNN file too where that revision has one);
everything else (decode, detector) is this tree's.

usage: .venv/bin/python bench/mask_cost.py [--rev main] [--sets mask,mfn] [--limit N]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tools"))

from accuracy import EVAL, b64, mask_validation, read_csv, spaced  # noqa: E402
from face_backend.api import handle  # noqa: E402
from face_backend.vision.engine import FaceEngine, get_engine  # noqa: E402
from face_backend.vision.runtime import Once  # noqa: E402


def module_at(rev: str, folder: Path) -> ModuleType:
    """face_backend/vision/mask.py as it was at `rev`, with its model files read from that revision."""
    source = folder / "mask_at_rev.py"
    source.write_bytes(subprocess.run(["git", "show", f"{rev}:face_backend/vision/mask.py"], cwd=REPO,
                                      check=True, capture_output=True).stdout)
    head = folder / "mask_head.npz"
    head.write_bytes(subprocess.run(["git", "show", f"{rev}:face_backend/models/mask_head.npz"], cwd=REPO,
                                    check=True, capture_output=True).stdout)
    spec = importlib.util.spec_from_file_location("mask_at_rev", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HEAD_FILE = head
    if hasattr(module, "CNN_MODEL"):
        cnn = folder / "mask_cnn.onnx"
        cnn.write_bytes(subprocess.run(["git", "show", f"{rev}:face_backend/models/mask_cnn.onnx"], cwd=REPO,
                                       check=True, capture_output=True).stdout)
        module.CNN_FILE = cnn
    return module


def loaded_at(module: ModuleType) -> object:
    """The revision's mask model, loaded (by its own _load) from the files module_at read."""
    files = [module.HEAD_FILE] + ([module.CNN_FILE] if hasattr(module, "CNN_FILE") else [])
    model = module.MaskModel()
    model._value = Once(lambda: model._load(files))
    return model


def engine_with(engine: FaceEngine, mask_model: object) -> FaceEngine:
    """The same engine (same detector sessions) answering mask with another mask model."""
    other = object.__new__(FaceEngine)
    other.__dict__.update(engine.__dict__)
    other.models = dataclasses.replace(engine.models, mask=mask_model)
    return other


def photos(sets: list[str], limit: int | None) -> list[Path]:
    out: list[Path] = []
    if "mask" in sets:
        out += [p for p, _ in spaced(mask_validation(), limit)]
    if "mfn" in sets:
        folder = EVAL / "maskedfacenet_subset"
        out += [folder / i["path"] for i in spaced(read_csv(folder / "labels.csv"), limit)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", default="main", help="git revision of the head to compare against")
    parser.add_argument("--sets", default="mask,mfn", help="comma-separated, from mask,mfn")
    parser.add_argument("--limit", type=int, default=None, help="photos per set (evenly spaced)")
    args = parser.parse_args()

    engine = get_engine("default")
    engine.warm_up(optional=False)
    with tempfile.TemporaryDirectory() as tmp:
        old = module_at(args.rev, Path(tmp))
        old_model = loaded_at(old)
        engines = {"this tree": engine, args.rev: engine_with(engine, old_model)}
        totals = {name: {"cpu": 0.0, "wall": 0.0} for name in engines}
        items = photos(args.sets.split(","), args.limit)
        for k, path in enumerate(items):
            body = ('{"imageContent": "%s"}' % b64(path.read_bytes()).replace("\n", "")).encode()
            order = list(engines) if k % 2 else list(engines)[::-1]
            if k == 0:  # first calls pay one-time set-up: keep it off the clock
                for name in order:
                    handle("mask", body, "bench-warm-up", engines[name])
            for name in order:
                cpu, wall = time.process_time(), time.perf_counter()
                handle("mask", body, "bench-mask-cost", engines[name])
                totals[name]["cpu"] += time.process_time() - cpu
                totals[name]["wall"] += time.perf_counter() - wall
    n = max(len(items), 1)
    base = totals[args.rev]
    print(f"mask API, {len(items)} photos ({args.sets}), ms per image, alternating in one process:\n")
    print("| mask model | CPU ms | wall ms | CPU ratio | wall ratio |")
    print("|---|---|---|---|---|")
    for name, t in totals.items():
        print(f"| {name} | {1000 * t['cpu'] / n:.2f} | {1000 * t['wall'] / n:.2f} | "
              f"{t['cpu'] / max(base['cpu'], 1e-9):.3f} | {t['wall'] / max(base['wall'], 1e-9):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
