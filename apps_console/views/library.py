"""Face library pages: an app's groups, a group's people, a person's faces (delete any of them),
enrolment from a photo and search by photo.

Every operation is a signed library call of the app through the gateway's pipeline
(apps_console.tryit.call_library): authenticated, metered (enrolment and search cost one call each)
and monitored like a call from outside. Every form posts and redirects (the last search result is
kept in the session for the page the redirect shows), so a reload repeats nothing."""
from __future__ import annotations

import base64
from typing import Any, Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps_console.access import get_app, visible_apps
from apps_console.labels import NEXT_STEPS, code_label, far_words, local_time
from apps_console.overview import app_overview
from apps_console.tryit import call_library
from facegate import errors
from facegate.apis import ID_PATTERN, LIBRARY, MAX_GROUPS_PER_SEARCH, MAX_USER_INFO
from facegate.client import MAX_IMAGE_BYTES
from facegate.operating_points import OPERATING_POINT_NAMES
from gateway.models import Application

MAX_PHOTO_BYTES = MAX_IMAGE_BYTES  # the API's limit on one decoded photo; the page shrinks photos to fit
LIST_LENGTH = 1000  # groups and people shown on one page
SEARCH_SESSION_KEY = "library_search"


def _page_url(app: Application, group: str = "", user: str = "") -> str:
    query = {"app": app.pk, **({"group": group} if group else {}), **({"user": user} if user else {})}
    return reverse("console:library") + "?" + urlencode(query)


def _refused(request: HttpRequest, reply: dict) -> None:
    """The reply's error in words, with the next step."""
    code = str(reply.get("code"))
    text = f"{code_label(code)} ({code})"
    if code in NEXT_STEPS:
        text += " " + str(NEXT_STEPS[code])
    messages.error(request, text)


def _call(request: HttpRequest, app: Application, op: str, body: dict) -> dict | None:
    """The operation's result, or None after putting its error on the page."""
    reply = call_library(app, op, body)
    if reply.get("code") != errors.SUCCESS:
        _refused(request, reply)
        return None
    return reply["result"]


@login_required
def library_page(request: HttpRequest) -> HttpResponse:
    apps = list(visible_apps(request.user).filter(status="active"))
    chosen = request.GET.get("app", "")
    app = next((a for a in apps if str(a.pk) == chosen), apps[0] if apps else None)
    group, user = request.GET.get("group", ""), request.GET.get("user", "")
    # "person_id", not "user": the templates' `user` is the signed-in account.
    context: dict[str, Any] = {"apps": apps, "app": app, "group": group, "person_id": user,
                               "max_user_info": MAX_USER_INFO, "max_groups": MAX_GROUPS_PER_SEARCH,
                               "max_bytes": MAX_PHOTO_BYTES}
    if app is not None:
        context["remaining"] = next(s.remaining for s in app_overview(app) if s.api == LIBRARY)
        listed = _call(request, app, "group/list", {"length": LIST_LENGTH})
        context["groups"] = listed["group_id_list"] if listed else []
        if group in context["groups"]:
            people = _call(request, app, "group/getusers", {"group_id": group, "length": LIST_LENGTH})
            context["people"] = people["user_id_list"] if people else []
            if user in context["people"]:
                person = _call(request, app, "user/get", {"group_id": group, "user_id": user})
                for face in (person or {}).get("face_list", []):
                    face["enrolled"] = local_time(f"{face['ctime']}+00:00")  # the library answers in UTC
                context["person"] = person
        context["settings"] = _call(request, app, "app/settings", {"older_faces": True})
        context["operating_points"] = [(name, far_words(name)) for name in OPERATING_POINT_NAMES]
        search = request.session.get(SEARCH_SESSION_KEY)
        if search and search.get("app") == app.pk:
            context["search"] = search
    return render(request, "console/library.html", context)


def _photo_b64(request: HttpRequest) -> str | None:
    """The uploaded photo as base64, or None after saying why it cannot be used (nothing is charged)."""
    photo = request.FILES.get("photo")
    if photo is None or not photo.size:
        messages.error(request, _("Choose a photo first."))
        return None
    if photo.size > MAX_PHOTO_BYTES:
        _refused(request, errors.error(errors.IMAGE_TOO_LARGE, ""))  # in the console's words, not sent
        return None
    return base64.b64encode(photo.read()).decode("ascii")


def _identifier(request: HttpRequest, name: str) -> str | None:
    value = request.POST.get(name, "").strip()
    if not ID_PATTERN.match(value):
        messages.error(request, _("Ids are 1 to 128 letters, digits or underscores."))
        return None
    return value


def _add_group(request: HttpRequest, app: Application) -> str:
    group = _identifier(request, "group_id")
    if group and _call(request, app, "group/add", {"group_id": group}) is not None:
        messages.success(request, _("Group %(group)s created.") % {"group": group})
        return _page_url(app, group)
    return _page_url(app)


def _delete_group(request: HttpRequest, app: Application) -> str:
    group = _identifier(request, "group_id")
    done = group and _call(request, app, "group/delete", {"group_id": group})
    if done:
        messages.success(request, _("Group %(group)s deleted with %(n)s face(s).") % {"group": group, "n": done["face_num"]})
    return _page_url(app)


def _enrol(request: HttpRequest, app: Application) -> str:
    group, user = _identifier(request, "group_id"), _identifier(request, "user_id")
    info = request.POST.get("user_info", "").strip()[:MAX_USER_INFO]
    if not group or not user:
        return _page_url(app, group or "")
    image = _photo_b64(request)
    body = {"group_id": group, "user_id": user, "imageContent": image, **({"user_info": info} if info else {})}
    if image is not None and _call(request, app, "user/add", body) is not None:
        messages.success(request, _("Enrolled %(user)s from the photo's largest face.") % {"user": user})
        return _page_url(app, group, user)
    return _page_url(app, group)


def _delete_user(request: HttpRequest, app: Application) -> str:
    group, user = _identifier(request, "group_id"), _identifier(request, "user_id")
    done = group and user and _call(request, app, "user/delete", {"group_id": group, "user_id": user})
    if done:
        messages.success(request, _("%(user)s deleted with %(n)s face(s).") % {"user": user, "n": done["face_num"]})
    return _page_url(app, group or "")


def _delete_face(request: HttpRequest, app: Application) -> str:
    group, user = request.POST.get("group_id", ""), request.POST.get("user_id", "")
    token = _identifier(request, "face_token")
    if token and _call(request, app, "face/delete", {"face_token": token}) is not None:
        messages.success(request, _("Face deleted."))
    return _page_url(app, group, user)


def _search(request: HttpRequest, app: Application) -> str:
    groups = [g for g in request.POST.getlist("group_id") if ID_PATTERN.match(g)][:MAX_GROUPS_PER_SEARCH]
    if not groups:
        messages.error(request, _("Choose at least one group to search."))
        return _page_url(app)
    image = _photo_b64(request)
    found = image is not None and _call(request, app, "search", {
        "imageContent": image, "group_id_list": ",".join(groups), "max_user_num": 5})
    if found:
        # Kept for the page the redirect shows: a reload shows it again and charges nothing.
        request.session[SEARCH_SESSION_KEY] = {"app": app.pk, "groups": groups, "photo": request.FILES["photo"].name,
                                               "users": found["user_list"]}
    return _page_url(app, request.POST.get("group", ""), request.POST.get("user", ""))


def _settings(request: HttpRequest, app: Application) -> str:
    point = request.POST.get("operating_point", "")
    if point not in OPERATING_POINT_NAMES:
        messages.error(request, _("Choose one of the listed operating points."))
    elif _call(request, app, "app/settings", {"operating_point": point,
                                              "store_photos": request.POST.get("store_photos") == "on"}) is not None:
        messages.success(request, _("Library settings saved."))
    return _page_url(app, request.POST.get("group", ""), request.POST.get("user", ""))


ACTIONS: dict[str, Callable[[HttpRequest, Application], str]] = {
    "group-add": _add_group, "group-delete": _delete_group, "enrol": _enrol,
    "user-delete": _delete_user, "face-delete": _delete_face, "search": _search,
    "settings": _settings,
}


@login_required
@require_POST
def library_action(request: HttpRequest, app_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    app = get_app(request.user, app_id)
    return redirect(ACTIONS[action](request, app))
