"""The console's library settings, rendered from a real app/settings result: the faces left behind
by a model upgrade are named, in both languages, only when there are some."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from apps_console.labels import far_words
from facegate.operating_points import OPERATING_POINT_NAMES
from gateway.models import Application
from tests.console.seed import seed
from tests.console.untranslated import english_words

pytestmark = pytest.mark.django_db

SETTINGS = {"face_limit": 100000, "operating_point": "1e-4", "threshold_cosine": 0.424, "threshold_score": 0.6479,
            "store_photos": True, "face_num": 12}


def page(settings: dict, language: str) -> str:
    user = get_user_model().objects.create_user(f"u-{language}-{len(settings)}@example.com", password="Sunflower-Gate-42")
    app = Application.objects.get(pk=seed(user)["app"])
    request = RequestFactory().get(f"/console/library/?app={app.pk}")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    with translation.override(language):
        context = {"apps": [app], "app": app, "group": "", "person_id": "", "groups": [], "remaining": 10,
                   "max_user_info": 256, "max_groups": 10, "max_bytes": 1 << 20, "settings": settings,
                   "operating_points": [(name, far_words(name)) for name in OPERATING_POINT_NAMES]}
        return render_to_string("console/library.html", context, request=request)


def test_older_faces_are_named_with_the_command_that_updates_them():
    older = {**SETTINGS, "older_face_num": 5, "older_face_num_with_photo": 3}
    english = page(older, "en")
    assert 'id="lib-older-faces"' in english
    assert "5 of them were enrolled with an older model version" in english and "updates the 3 whose photo" in english
    chinese = page(older, "zh-hans")
    assert "其中 5 张由旧版模型录入" in chinese and "保存了照片的 3 张" in chinese
    section = chinese[chinese.index('<section class="card" id="lib-settings">'):]
    assert not [w for w in english_words(section) if w not in ("facegate", "library", "reembed")]


def test_no_line_when_every_face_is_current():
    assert 'id="lib-older-faces"' not in page({**SETTINGS, "older_face_num": 0, "older_face_num_with_photo": 0}, "en")
