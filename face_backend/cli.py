"""`facegate detect IMAGE` (attributes, liveness, mask) and `facegate compare A B`: run the engine
locally on files and print the same JSON reply the API gives. Exit 0 when code is "0", else 1."""
from __future__ import annotations

import argparse
import base64
import json
import sys
import uuid

from facegate.apis import IMAGE_APIS
from face_backend.api import handle


def _parser(api: str) -> argparse.ArgumentParser:
    fields = IMAGE_APIS[api].image_fields
    parser = argparse.ArgumentParser(prog=f"facegate {api}",
                                     description=f"run the {api} API locally on image files and print its JSON reply "
                                                 "(exit status 0 when the code is \"0\", else 1)")
    for n, _field in enumerate(fields, 1):
        parser.add_argument(f"image{n}" if len(fields) > 1 else "image", metavar=f"IMAGE{n}" if len(fields) > 1 else "IMAGE")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON (default: one compact line)")
    return parser


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in IMAGE_APIS:
        print(f"usage: facegate {{{'|'.join(IMAGE_APIS)}}} IMAGE [IMAGE2 for compare] [--pretty]", file=sys.stderr)
        return 2
    api = argv[0]
    try:
        args = _parser(api).parse_args(argv[1:])
    except SystemExit as exc:  # --help exits 0, a usage error 2
        return int(exc.code or 0)
    paths = [value for key, value in sorted(vars(args).items()) if key.startswith("image")]
    body = {}
    for field, path in zip(IMAGE_APIS[api].image_fields, paths):
        try:
            with open(path, "rb") as handle_:
                body[field] = base64.b64encode(handle_.read()).decode("ascii")
        except OSError as exc:
            print(f"cannot read {path}: {exc}", file=sys.stderr)
            return 2
    reply = handle(api, json.dumps(body).encode(), uuid.uuid4().hex)
    print(json.dumps(reply, ensure_ascii=False, indent=2 if args.pretty else None,
                     separators=None if args.pretty else (",", ":")))
    return 0 if reply["code"] == "0" else 1
