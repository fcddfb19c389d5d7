"""API reference: the OpenAPI schema at /api/schema/ rendered by the vendored Redoc, in the console's
language. Public, like the schema: reading the reference needs no account."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language


def reference_page(request: HttpRequest) -> HttpResponse:
    lang = "zh-hans" if (get_language() or "en").startswith("zh") else "en"
    return render(request, "console/reference.html", {"schema_lang": lang})
