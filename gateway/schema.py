"""`GET /api/schema/`: the OpenAPI 3.1 description of the face API (facegate.openapi), public like
the API paths it describes. `?lang=zh-hans` gives the Chinese descriptions."""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from facegate.openapi import LANGUAGES, build_schema


@require_GET
def api_schema(request: HttpRequest) -> JsonResponse:
    lang = request.GET.get("lang", "en").lower()
    if lang not in LANGUAGES:
        lang = "zh-hans" if lang.startswith("zh") else "en"
    schema = build_schema(lang, server_url=request.build_absolute_uri("/").rstrip("/"))
    return JsonResponse(schema, json_dumps_params={"ensure_ascii": False})
