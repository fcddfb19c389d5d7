"""'Try it' calls: the console signs a request for the chosen app server-side (gateway.client) and runs
it through the gateway's own view, so that it is authenticated, metered (charged to the app's packs)
and monitored exactly like a call from outside. Nothing here re-implements the gateway."""
from __future__ import annotations

import json
import uuid

from django.http import HttpResponse
from django.test import RequestFactory

from facegate.apis import APIS
from gateway.client import signed_request
from gateway.models import Application


def build_body(api: str, images_b64: list[str]) -> bytes:
    return json.dumps(dict(zip(APIS[api].image_fields, images_b64))).encode()


def call_through_gateway(app: Application, api: str, images_b64: list[str], remote_addr: str = "127.0.0.1") -> dict:
    """Run one signed call for `app` through gateway.views.FaceApiView; returns the wire reply."""
    from gateway.views import FaceApiView  # late: the gateway module pulls in forwarding and billing

    service_code = app.service_code_for(api)
    body = build_body(api, images_b64)
    path, headers = signed_request(app.app_key, app.app_secret, service_code, api, body)
    request = RequestFactory().post(
        path, data=body, content_type="application/json", REMOTE_ADDR=remote_addr or "127.0.0.1",
        HTTP_APPKEY=headers["AppKey"], HTTP_TIMESTAMP=headers["Timestamp"], HTTP_SIGN=headers["Sign"],
    )
    # The request-id middleware does not run for an in-process call; give the call its own id.
    request.request_id = uuid.uuid4().hex
    response: HttpResponse = FaceApiView.as_view()(request, service_code=service_code, api_path=APIS[api].path)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return json.loads(response.content)
