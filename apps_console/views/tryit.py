"""'Try it': upload a photo, pick an app and API, run it through the gateway (metered like any call)."""
from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from apps_console.access import get_app, visible_apps
from apps_console.tryit import call_through_gateway
from facegate.apis import IMAGE_APIS
from facegate.errors import BAD_BODY, error


@login_required
def tryit_page(request: HttpRequest) -> HttpResponse:
    return render(request, "console/tryit.html", {
        "apps": visible_apps(request.user).filter(status="active"),
        "apis": [(name, spec) for name, spec in IMAGE_APIS.items()],
        "selected_app": request.GET.get("app", ""),
    })


@login_required
@require_POST
def tryit_run(request: HttpRequest) -> JsonResponse:
    """JSON {"app": id, "api": name, "images": [base64, ...]} → the gateway's wire reply.

    CSRF-protected like every POST (the page sends the token in X-CSRFToken)."""
    try:
        payload = json.loads(request.body)
        api = payload["api"]
        images = payload["images"]
        if api not in IMAGE_APIS or not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JsonResponse(error(BAD_BODY, "expected {app, api, images: [base64...]}"), status=400)
    app = get_app(request.user, payload.get("app", ""))
    needed = len(IMAGE_APIS[api].image_fields)
    images = (images + [""] * needed)[:needed]  # a missing image gets the backend's own 4101
    return JsonResponse(call_through_gateway(app, api, images))
