"""`facegate detect IMAGE` (attributes, liveness, mask) and `facegate compare A B`: run the engine
locally on files and print the same JSON reply the API gives. Exit 0 when code is "0", else 1."""
from __future__ import annotations

import base64
import json
import sys
import uuid

from facegate.apis import IMAGE_APIS
from face_backend.api import handle


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in IMAGE_APIS:
        print(f"usage: facegate {{{'|'.join(IMAGE_APIS)}}} IMAGE [IMAGE2 for compare]", file=sys.stderr)
        return 2
    api, paths = argv[0], argv[1:]
    fields = IMAGE_APIS[api].image_fields
    if len(paths) != len(fields):
        print(f"facegate {api} needs {len(fields)} image file(s)", file=sys.stderr)
        return 2
    body = {}
    for field, path in zip(fields, paths):
        try:
            with open(path, "rb") as handle_:
                body[field] = base64.b64encode(handle_.read()).decode("ascii")
        except OSError as exc:
            print(f"cannot read {path}: {exc}", file=sys.stderr)
            return 2
    reply = handle(api, json.dumps(body).encode(), uuid.uuid4().hex)
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    return 0 if reply["code"] == "0" else 1
