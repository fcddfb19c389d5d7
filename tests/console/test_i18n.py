"""Every console page rendered in Chinese has no English words left (besides product names and code),
and the order status "created" is not the column heading "Created" (创建时间)."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from tests.console.seed import console_pages, seed
from tests.console.untranslated import english_words

pytestmark = pytest.mark.django_db
PASSWORD = "Sunflower-Gate-42"


@pytest.fixture
def zh_client():
    user = get_user_model().objects.create_user("li.wei@example.com", "li.wei@example.com", PASSWORD)
    ids = seed(user)
    client = Client()
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/console/"})
    return client, ids


def test_every_page_in_chinese_has_no_english_words(zh_client):
    client, ids = zh_client
    pages = console_pages(ids)
    # The page that reveals a new secret, and the one after a rotation.
    reveal = client.post(f"/console/apps/{ids['app']}/rotate/")["Location"]
    pages.append(("app-secret", reveal))
    problems = {}
    for name, path in pages:
        response = client.get(path)
        assert response.status_code == (404 if name == "not-found" else 200), (name, response.status_code)
        words = english_words(response.content.decode())
        if words:
            problems[name] = sorted(set(words))
    anonymous = Client()
    anonymous.post("/i18n/setlang/", {"language": "zh-hans", "next": "/console/login/"})
    failed = anonymous.post("/console/login/", {"username": "li.wei@example.com", "password": "wrong"})
    for name, html in [("login", anonymous.get("/console/login/").content.decode()),
                       ("login-failed", failed.content.decode())]:
        if english_words(html):
            problems[name] = sorted(set(english_words(html)))
    with translation.override("zh-hans"):
        words = english_words(render_to_string("500.html"))
    if words:
        problems["500"] = sorted(set(words))
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_order_status_created_is_not_the_created_column(zh_client):
    client, ids = zh_client
    page = client.get(f"/console/orders/{ids['orders']['created']}/").content.decode()
    assert 'id="order-status">待支付<' in page
    listing = client.get("/console/orders/").content.decode()
    assert "创建时间" in listing and "待支付" in listing and "已取消" in listing


def test_english_pages_show_english_liveness_words(zh_client):
    """The liveness verdict comes from the backend in Chinese; the English page has English words for it."""
    client, ids = zh_client
    client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    page = client.get(f"/console/try/?app={ids['app']}").content.decode()
    assert 'data-live="Live face"' in page and "活体" not in page


def test_committed_catalog_is_compiled_from_the_po(tmp_path):
    """The .mo is committed (running the console needs no gettext tools); it must hold what the .po says."""
    import gettext
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (GNU gettext) not installed")
    folder = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(folder / "django.po")], check=True,
                   capture_output=True)
    with open(folder / "django.mo", "rb") as committed, open(fresh, "rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(compiled)._catalog, \
            "run: msgfmt -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po"
