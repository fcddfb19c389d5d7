"""The API reference page in a real headless Chromium: Redoc (vendored) renders the served schema in
English, the console's language switch turns it Chinese, and nothing is fetched from outside."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from facegate.procs import REPO

pytestmark = pytest.mark.browser

SHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def test_reference_renders_in_english_and_chinese(api_stack):
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("FACEGATE_CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
            page.set_default_timeout(30_000)
            hosts: set[str] = set()
            page.on("request", lambda request: hosts.add(urlparse(request.url).netloc)
                    if request.url.startswith(("http:", "https:")) else None)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(api_stack.url + "/console/reference/")
            page.locator("h2", has_text="Face compare (1:1)").first.wait_for()  # Redoc built it from the schema
            for text in ("Age and gender", "Silent liveness", "Mask detection", "lowercase hex MD5"):
                assert page.locator(f"text={text}").count(), text
            assert page.locator("#schema-link").get_attribute("href") == "/api/schema/?lang=en"
            page.screenshot(path=str(SHOTS / "reference-en.png"))

            page.click("#lang-zh-hans")
            page.locator("h2", has_text="人脸比对").first.wait_for()
            for text in ("年龄性别识别", "静默活体检测", "口罩检测", "小写十六进制"):
                assert page.locator(f"text={text}").count(), text
            assert page.locator("#schema-link").get_attribute("href") == "/api/schema/?lang=zh-hans"
            page.screenshot(path=str(SHOTS / "reference-zh.png"))

            assert hosts == {urlparse(api_stack.url).netloc}, hosts  # Redoc is served by facegate: no CDN
            assert not errors, errors
        finally:
            browser.close()
