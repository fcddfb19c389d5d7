"""'Try it': pick an app and API, upload a photo (two for compare), run it through the gateway
(metered like any call) and see the result drawn on the photo.

Console-side failures are never charged: the page shrinks photos over the API's 2 MB limit before
upload and refuses files the browser cannot read; this view refuses anything still over the limit
before the gateway sees it."""
from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps_console.access import get_app, visible_apps
from apps_console.backend_pack import backend_pack
from apps_console.labels import LIVE_FACE_WIRE_VALUE, NEXT_STEPS, RESULT_CODES, api_title, far_text
from apps_console.overview import app_overview
from apps_console.tryit import call_through_gateway
from facegate import errors
from facegate.apis import IMAGE_APIS
from facegate.client import MAX_IMAGE_BYTES, SAME_PERSON_THRESHOLD
from facegate.operating_points import far_band

# The API's documented limit on one photo (decoded bytes, facegate.client's); the page shrinks to fit it.
MAX_PHOTO_BYTES = MAX_IMAGE_BYTES


def _remaining(app) -> dict[str, int]:
    return {s.api: s.remaining for s in app_overview(app)}


def _sample(name: str) -> str:
    return reverse("console:asset", args=[f"console/samples/{name}"])


@login_required
def tryit_page(request: HttpRequest) -> HttpResponse:
    apps = list(visible_apps(request.user).filter(status="active"))
    return render(request, "console/tryit.html", {
        "apps": apps,
        "apis": [(name, api_title(name)) for name in IMAGE_APIS],
        "selected_app": request.GET.get("app", ""),
        "selected_api": request.GET.get("api", ""),
        "page_data": {
            "maxBytes": MAX_PHOTO_BYTES,
            "remaining": {str(app.pk): _remaining(app) for app in apps},
            "codes": {code: str(label) for code, label in RESULT_CODES.items()},
            "nextSteps": {code: str(step) for code, step in NEXT_STEPS.items()},
            "buyUrl": reverse("console:buy"),
            "liveValue": LIVE_FACE_WIRE_VALUE,
            # Public-domain sample photos shipped with the console (static/console/samples/README.md).
            "samples": {"single": [_sample("astronaut.jpg")],
                        "pair": [_sample("astronaut.jpg"), _sample("astronaut-mirrored.jpg")]},
        },
    })


def _photo_bytes(b64: str) -> int:
    return len(b64) // 4 * 3


@login_required
@require_POST
def tryit_run(request: HttpRequest) -> JsonResponse:
    """JSON {"app": id, "api": name, "images": [base64, ...]} → {"reply": the gateway's wire reply,
    "charged": whether the call counted, "remaining": calls left for this app and API, and for a
    successful compare "faces": the compared face of each photo, for its box, and "far": the false
    accept rate its score implies, in words}.

    CSRF-protected like every POST (the page sends the token in X-CSRFToken)."""
    try:
        payload = json.loads(request.body)
        api = payload["api"]
        images = payload["images"]
        if api not in IMAGE_APIS or not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"reply": errors.error(errors.BAD_BODY, "expected {app, api, images: [base64...]}"),
                             "charged": False}, status=400)
    app = get_app(request.user, payload.get("app", ""))
    needed = len(IMAGE_APIS[api].image_fields)
    images = (images + [""] * needed)[:needed]  # a missing image gets the backend's own 4101
    if any(_photo_bytes(image) > MAX_PHOTO_BYTES for image in images):
        # Refused before the gateway: the page shrinks photos, so an oversize one is the console's failure.
        reply, charged = errors.error(errors.IMAGE_TOO_LARGE, f"photo over {MAX_PHOTO_BYTES} bytes"), False
    else:
        reply = call_through_gateway(app, api, images)
        # Which replies count is billing's rule (facegate.errors); the page only reports it.
        charged = reply.get("code") in errors.CHARGEABLE_CODES
    answer = {"reply": reply, "charged": charged, "remaining": _remaining(app).get(api, 0)}
    if api == "compare" and reply.get("code") == errors.SUCCESS and isinstance(reply.get("result"), dict):
        # The console asked for the compared faces (face_fields); the page boxes them.
        result = reply["result"]
        boxes = (result.get("face_location1"), result.get("face_location2"))
        answer["faces"] = [{"face_location": box} if box else None for box in boxes]
        score = float(result["score"])
        # The FAR says how strong a match is; a "different people" verdict needs no such line.
        band = far_band(score, backend_pack()) if score >= SAME_PERSON_THRESHOLD else None
        if band is not None:
            answer["far"] = {"band": band, "text": far_text(band)}
    return JsonResponse(answer)
