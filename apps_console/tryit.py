"""Calls the console makes for a user ('Try it', the face library pages): the console signs a request
for the chosen app server-side (facegate.client) and runs it through gateway.pipeline.handle_call, so
that it is authenticated, metered (charged to the app's packs) and monitored exactly like a call from
outside. Nothing here re-implements the gateway."""
from __future__ import annotations

import json

from facegate.apis import IMAGE_APIS, LIBRARY, public_path
from facegate.client import MillisecondClock, signed_headers
from facegate.request_ids import new_request_id
from gateway.models import Application
from gateway.pipeline import handle_call

# Strictly increasing timestamps: two identical calls in one millisecond (a double click) would
# otherwise carry the same Sign and the second be refused as a replay.
_clock = MillisecondClock()


def build_body(api: str, images_b64: list[str]) -> bytes:
    body: dict[str, str] = dict(zip(IMAGE_APIS[api].image_fields, images_b64))
    if api == "compare":
        body["face_fields"] = "location"  # the protocol's opt-in: which face of each photo was compared
    return json.dumps(body).encode()


def _signed_call(app: Application, api: str, body: bytes, op: str = "") -> dict:
    path = public_path(app.service_code_for(api), api, op)
    content, _outcome = handle_call(path, signed_headers(app.app_key, app.app_secret, path, body, _clock.next()),
                                    body, new_request_id())
    return json.loads(content)


def call_through_gateway(app: Application, api: str, images_b64: list[str]) -> dict:
    """Run one signed image-API call for `app` through the gateway's pipeline; returns the wire reply."""
    return _signed_call(app, api, build_body(api, images_b64))


def call_library(app: Application, op: str, body: dict) -> dict:
    """Run one signed face library operation for `app` through the gateway's pipeline; the wire reply."""
    return _signed_call(app, LIBRARY, json.dumps(body).encode(), op)
