"""'Try it' calls: the console signs a request for the chosen app server-side (facegate.client) and
runs it through gateway.pipeline.handle_call, so that it is authenticated, metered (charged to the
app's packs) and monitored exactly like a call from outside. Nothing here re-implements the gateway."""
from __future__ import annotations

import json

from facegate.apis import IMAGE_APIS
from facegate.request_ids import new_request_id
from facegate.client import signed_request
from gateway.models import Application
from gateway.pipeline import handle_call


def build_body(api: str, images_b64: list[str]) -> bytes:
    body: dict[str, str] = dict(zip(IMAGE_APIS[api].image_fields, images_b64))
    if api == "compare":
        body["face_fields"] = "location"  # the protocol's opt-in: which face of each photo was compared
    return json.dumps(body).encode()


def call_through_gateway(app: Application, api: str, images_b64: list[str]) -> dict:
    """Run one signed call for `app` through the gateway's pipeline; returns the wire reply."""
    body = build_body(api, images_b64)
    path, headers = signed_request(app.app_key, app.app_secret, app.service_code_for(api), api, body)
    content, _outcome = handle_call(path, headers, body, new_request_id())
    return json.loads(content)
