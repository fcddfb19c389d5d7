"""My apps: list, create, detail (keys, service codes, examples, usage), rotate secret, enable/disable.

Every POST ends in a redirect (post/redirect/get): a reload never creates or rotates twice. The
AppSecret is revealed once on the app page through a one-time token (apps_console.reveal); nothing
plain is stored, and the page says it will not be shown again."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps_console import reveal
from apps_console.access import get_app, visible_apps
from apps_console.examples import examples_for
from apps_console.forms import CreateAppForm
from apps_console.labels import lang_is_zh
from apps_console.overview import app_overview
from billing import quota
from facegate.apis import LIBRARY, public_path
from gateway import services
from gateway.library_admin import purge_now
from gateway.models import Application


def _reveal_redirect(request: HttpRequest, app: Application, notice: str) -> HttpResponse:
    token = reveal.remember(request, app, notice)
    return redirect(reverse("console:app-detail", args=[app.pk]) + "?reveal=" + token)


def _list(request: HttpRequest, form: CreateAppForm, status: int = 200) -> HttpResponse:
    rows = [(app, app_overview(app)) for app in visible_apps(request.user)]
    return render(request, "console/app_list.html", {"rows": rows, "form": form}, status=status)


@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    return _list(request, CreateAppForm())


@login_required
def app_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("console:apps")
    form = CreateAppForm(request.POST)
    if form.is_valid():
        try:
            app, _secret = services.create_application(request.user, form.cleaned_data["name"],
                                                       form.cleaned_data["description"], actor=request.user)
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            return _reveal_redirect(request, app, "created")
    return _list(request, form, status=400)


@login_required
@never_cache
def app_detail(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_app(request.user, app_id)
    notice = reveal.take(request, app, request.GET.get("reveal", ""))
    codes = {sc.api: sc.code for sc in app.service_codes.all()}
    base_url = f"{request.scheme}://{request.get_host()}"
    detail_url = reverse("console:app-detail", args=[app.pk])
    return render(request, "console/app_detail.html", {
        "app": app,
        # Decrypted only for the one view that takes the token; never_cache keeps it out of caches.
        "secret": app.app_secret if notice else None,
        "notice": notice,
        "reveal_spent": bool(request.GET.get("reveal")) and not notice,
        "examples": examples_for(app.app_key, codes, base_url, lang_zh=lang_is_zh()),
        "library_code": codes.get(LIBRARY, ""),
        "library_url": base_url + public_path(codes[LIBRARY], LIBRARY) + "/{op}" if LIBRARY in codes else "",
        "usage": quota.usage(app),
        "overview": app_overview(app),
        # Switching language must not carry the spent token along.
        "lang_next": detail_url,
    })


@login_required
@require_POST
def app_rotate(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_app(request.user, app_id)
    try:
        services.rotate_secret(app, actor=request.user)
    except ValidationError:
        return _refused_on_deleted(request, app)
    return _reveal_redirect(request, app, "rotated")


@login_required
@require_POST
def app_status(request: HttpRequest, app_id: int) -> HttpResponse:
    app = get_app(request.user, app_id)
    active = request.POST.get("active") == "1"
    try:
        services.set_status(app, active, actor=request.user)
    except ValidationError:
        return _refused_on_deleted(request, app)
    messages.success(request, _("The app is enabled.") if active else
                     _("The app is disabled: every call now gets 4002."))
    return redirect("console:app-detail", app_id=app.pk)


@login_required
@require_POST
def app_delete(request: HttpRequest, app_id: int) -> HttpResponse:
    """Delete for good (gateway.services.delete_application). The face library is erased now when the
    backend answers, else by the housekeeping task that retries until it does."""
    app = get_app(request.user, app_id)
    services.delete_application(app, actor=request.user)
    waiting = purge_now(app.pk)[1]
    messages.success(request, _("The app is deleted: its keys no longer work and its face library is erased.")
                     if not waiting else
                     _("The app is deleted: its keys no longer work. Its face library will be erased as soon as the face backend answers."))
    return redirect("console:app-detail", app_id=app.pk)


def _refused_on_deleted(request: HttpRequest, app: Application) -> HttpResponse:
    messages.error(request, _("This app is deleted: it cannot be enabled again and its secret cannot be rotated."))
    return redirect("console:app-detail", app_id=app.pk)
