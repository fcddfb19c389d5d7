"""The console's library settings section, rendered with an app/settings result of the shape the
backend answers (its counts are tested in tests/library/test_reembed.py): the faces left behind by a
model upgrade are named, in both languages, only when there are some."""
from __future__ import annotations

import itertools

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
OWNERS = itertools.count()

SETTINGS = {"face_limit": 100000, "operating_point": "1e-4", "threshold_cosine": 0.424, "threshold_score": 0.6479,
            "store_photos": True, "face_num": 12}


def page(settings: dict, language: str) -> str:
    user = get_user_model().objects.create_user(f"owner{next(OWNERS)}@example.com", password="Sunflower-Gate-42")
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
    line = english[english.index('id="lib-older-faces"'):english.index("</p>", english.index('id="lib-older-faces"'))]
    assert "Enrolled with an older model version: 5" in line and "whose photo is kept: 3." in line
    assert "Those without a kept photo need enrolling again." in line
    chinese = page(older, "zh-hans")
    assert "由旧版模型录入：5 张" in chinese and "保存了照片的人脸：3 张" in chinese and "需重新录入" in chinese
    section = chinese[chinese.index('<section class="card" id="lib-settings">'):]
    assert not [w for w in english_words(section) if w not in ("facegate", "library", "reembed")]


def test_each_sentence_only_when_it_applies():
    assert 'id="lib-older-faces"' not in page({**SETTINGS, "older_face_num": 0, "older_face_num_with_photo": 0}, "en")
    all_kept = page({**SETTINGS, "older_face_num": 2, "older_face_num_with_photo": 2}, "en")
    assert "whose photo is kept: 2." in all_kept and "enrolling again" not in all_kept
    none_kept = page({**SETTINGS, "older_face_num": 2, "older_face_num_with_photo": 0}, "en")
    assert "reembed" not in none_kept and "Those without a kept photo need enrolling again." in none_kept
