"""My apps: list, create, detail (keys, service codes, examples, usage), rotate secret, enable/disable.

The AppSecret is only ever in the response to the create / rotate POST: nothing plain is stored,
and the page says it will not be shown again."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps_console.access import get_app, visible_apps
from apps_console.examples import examples_for
from apps_console.forms import CreateAppForm
from billing import quota
from gateway import services
from gateway.models import Application


def _render_detail(request: HttpRequest, app: Application, secret: str | None = None,
                   notice: str = "") -> HttpResponse:
    codes = {sc.api: sc.code for sc in app.service_codes.all()}
    base_url = f"{request.scheme}://{request.get_host()}"
    context = {
        "app": app,
        "secret": secret,
        "notice": notice,
        "examples": examples_for(app.app_key, codes, base_url, lang_zh=(get_language() or "").startswith("zh")),
        "usage": quota.usage(app),
        # Switching language from the create / rotate POST's page must land on a GET page.
        "lang_next": reverse("console:app-detail", args=[app.pk]),
    }
    # The create / rotate views, whose pages carry a plain secret, are never_cache (no-store).
    return render(request, "console/app_detail.html", context)


@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    return render(request, "console/app_list.html", {"apps": visible_apps(request.user), "form": CreateAppForm()})


@login_required
@never_cache
def app_create(request: HttpRequest) -> HttpResponse:
    form = CreateAppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            app, secret = services.create_application(request.user, form.cleaned_data["name"],
                                                      form.cleaned_data["description"])
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            return _render_detail(request, app, secret=secret, notice="created")
    return render(request, "console/app_list.html", {"apps": visible_apps(request.user), "form": form},
                  status=400 if request.method == "POST" else 200)


@login_required
def app_detail(request: HttpRequest, app_id: int) -> HttpResponse:
    return _render_detail(request, get_app(request.user, app_id))


@login_required
@require_POST
@never_cache
def app_rotate(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_app(request.user, app_id)
    secret = services.rotate_secret(app)
    app.refresh_from_db()
    return _render_detail(request, app, secret=secret, notice="rotated")


@login_required
@require_POST
def app_status(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_app(request.user, app_id)
    services.set_status(app, request.POST.get("active") == "1")
    return redirect("console:app-detail", app_id=app.pk)
