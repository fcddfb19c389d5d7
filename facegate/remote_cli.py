"""`facegate detect IMAGE --url URL ...`: the same commands as the local engine, sent to a running
facegate through the SDK (signed, shrunk, retried). Prints the wire reply; exit 0 when code is "0"."""
from __future__ import annotations

import argparse
import json
import os
import sys

from facegate.apis import APIS
from facegate.client import Client, FacegateError


def parser(api: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"facegate {api}", description=f"call {api} on a running facegate")
    p.add_argument("images", nargs=len(APIS[api].image_fields), metavar="IMAGE")
    p.add_argument("--url", required=True, help="the gateway, e.g. http://127.0.0.1:8000")
    p.add_argument("--app-key", default=os.environ.get("FACEGATE_APP_KEY"), help="default: $FACEGATE_APP_KEY")
    p.add_argument("--app-secret", default=os.environ.get("FACEGATE_APP_SECRET"),
                   help="default: $FACEGATE_APP_SECRET (preferred: arguments are visible to other users)")
    p.add_argument("--service-code", default=os.environ.get("FACEGATE_SERVICE_CODE"),
                   help="the app's service code of this API; default: $FACEGATE_SERVICE_CODE")
    p.add_argument("--no-shrink", action="store_true", help="send images over 2 MB as they are (answered 4103)")
    return p


def main(api: str, argv: list[str]) -> int:
    args = parser(api).parse_args(argv)
    missing = [flag for flag, value in (("--app-key", args.app_key), ("--app-secret", args.app_secret),
                                        ("--service-code", args.service_code)) if not value]
    if missing:
        print(f"facegate {api}: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    client = Client(args.url, args.app_key, args.app_secret, {api: args.service_code},
                    shrink_images=not args.no_shrink)
    try:
        reply, _ = client.call(api, list(args.images))
    except FacegateError as exc:
        reply = {"code": exc.code, "message": "error", "details": exc.details}
    except OSError as exc:
        print(f"cannot read image: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    return 0 if reply["code"] == "0" else 1
