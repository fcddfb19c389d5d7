"""Monitoring page and its JSON endpoint (session-authenticated) over monitoring.queries."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps_console.access import get_app, visible_apps
from apps_console.labels import RESULT_CODES
from facegate.apis import APIS
from monitoring import queries

PERIODS = tuple(queries.PERIODS)


@login_required
def monitoring_page(request: HttpRequest) -> HttpResponse:
    apps = visible_apps(request.user)
    return render(request, "console/monitoring.html", {
        "apps": apps, "apis": list(APIS), "periods": PERIODS,
        "selected_app": request.GET.get("app", ""), "selected_api": request.GET.get("api", ""),
        "selected_period": request.GET.get("period", "hour"),
        "code_labels": {code: str(label) for code, label in RESULT_CODES.items()},
    })


@login_required
@require_GET
@never_cache
def monitoring_data(request: HttpRequest) -> JsonResponse:
    """?app=<id or empty for all visible>&api=<name or empty>&period=hour|day|month."""
    period = request.GET.get("period", "hour")
    api = request.GET.get("api") or None
    if period not in PERIODS or (api is not None and api not in APIS):
        return JsonResponse({"error": "bad period or api"}, status=400)
    app_id = request.GET.get("app")
    apps = get_app(request.user, app_id) if app_id else visible_apps(request.user)
    return JsonResponse({
        "series": queries.series(apps, api, period),
        "summary": queries.summary(apps, api, period),
        "codes": queries.code_breakdown(apps, api, period),
    })
