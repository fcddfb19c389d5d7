"""The console in a real headless Chromium (Debian's) against a real `facegate serve`: sign in, create
an app, buy a pack, call detect with the shown credentials (Python requests and the page's own curl
example), see it in monitoring, trigger and acknowledge an alert, "Try it" with boxes on the canvas,
switch to Chinese and sign out. Screenshots of each step go to test-artifacts/screenshots/."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from facegate.apis import public_path
from facegate.client import signed_headers
from tests.console.live_stack import PASSWORD, REPO, USER, Stack

pytestmark = pytest.mark.browser

SHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def photo(shared_dir) -> Path:
    path = shared_dir / "data" / "photos" / "000_5.jpg"  # 819×546, well under the 2 MB limit
    assert path.stat().st_size < 2 * 1024 * 1024
    return path


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("FACEGATE_CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def signed_call(stack: Stack, key: str, secret: str, code: str, api: str, body: dict) -> dict:
    raw = json.dumps(body).encode()
    path = public_path(code, api)
    reply = requests.post(stack.url + path, data=raw, headers=signed_headers(key, secret, path, raw), timeout=60)
    assert reply.status_code == 200 and reply.headers["X-Request-Id"]
    return reply.json()


def reload_until(page, selector: str, timeout_s: float = 30) -> None:
    """The Celery worker records calls asynchronously: reload until the element shows up."""
    deadline = time.monotonic() + timeout_s
    while not page.locator(selector).count():
        assert time.monotonic() < deadline, f"{selector} did not appear on {page.url}"
        time.sleep(0.5)
        page.reload()


def test_console_end_to_end(stack: Stack, page, photo: Path, tmp_path: Path):
    image_b64 = base64.b64encode(photo.read_bytes()).decode()

    # Sign in.
    page.goto(stack.url + "/console/")
    assert "/console/login/" in page.url
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    shot(page, "01-sign-in")
    page.click("#sign-in")
    page.wait_for_url("**/console/")
    assert page.locator("h1").inner_text() == "My apps"

    # Create an app: the secret is on this page only.
    page.fill("#id_name", "door-camera")
    page.fill("#id_description", "front door kiosk")
    page.click("#create-app button[type=submit]")
    secret = page.locator("#app-secret").inner_text().strip()
    key = page.locator("#app-key").inner_text().strip()
    detect_code = page.locator("code.service-code[data-api=detect]").text_content().strip()
    liveness_code = page.locator("code.service-code[data-api=liveness]").text_content().strip()
    assert len(secret) >= 16 and len(key) == 32
    assert page.locator("code.request-url[data-api=detect]").inner_text() == stack.url + public_path(detect_code, "detect")
    shot(page, "02-app-created")
    app_url = page.locator("a.button", has_text="Monitoring").get_attribute("href")
    app_id = app_url.split("app=")[1]
    curl_example = page.locator("#curl-detect").inner_text()
    python_example = page.locator("#python-detect").inner_text()
    page.goto(f"{stack.url}/console/apps/{app_id}/")
    assert page.locator("#app-secret").count() == 0 and secret not in page.content()

    # Buy a 100k detect pack: form → confirmation with the amount → pay → activated pack.
    page.goto(f"{stack.url}/console/buy/?app={app_id}")
    page.select_option("#id_api", "detect")
    page.select_option("#id_tier", "100k")
    page.fill("#id_quantity", "1")
    page.click("#buy-next")
    assert "100.00" in page.locator("#order-amount").inner_text()
    shot(page, "03-order-confirm")
    page.click("#pay")
    page.wait_for_selector("#packs")
    assert "100000" in page.locator("#packs").inner_text()
    shot(page, "04-order-paid")

    # Call detect with the shown credentials, from Python (the wire protocol) and the page's curl example.
    reply = signed_call(stack, key, secret, detect_code, "detect", {"imageContent": image_b64})
    assert reply["code"] == "0" and reply["result"]["face_num"] >= 1, reply
    (tmp_path / "photo.jpg").write_bytes(photo.read_bytes())
    script = curl_example.replace("<your AppSecret>", secret)
    curl = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert json.loads(curl.stdout)["code"] == "0", curl.stdout + curl.stderr
    sample = subprocess.run([sys.executable, "-c", python_example.replace("<your AppSecret>", secret)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "'code': '0'" in sample.stdout, sample.stdout + sample.stderr

    # A tiny granted liveness pack, exhausted: the next call gets 4291 and raises quota_exhausted.
    stack.admin("grant", "--app", key, "--api", "liveness", "--calls", "1", "--days", "30", "--json")
    assert signed_call(stack, key, secret, liveness_code, "liveness", {"imageContent": image_b64})["code"] == "0"
    assert signed_call(stack, key, secret, liveness_code, "liveness", {"imageContent": image_b64})["code"] == "4291"

    # Monitoring: the detect calls show up (recorded by the Celery worker) in charts and code table.
    page.goto(f"{stack.url}/console/monitoring/?app={app_id}&api=detect&period=hour")
    deadline = time.monotonic() + 30
    while page.evaluate("document.body.dataset.monLoaded || '0'") in ("0", ""):
        assert time.monotonic() < deadline, "calls never appeared in monitoring"
        time.sleep(0.5)
        page.click("#mon-refresh")
    page.wait_for_selector("#codes tr[data-code='0']")
    assert int(page.locator("#mon-summary [data-k=count]").inner_text()) >= 2
    assert page.locator("#chart-count").bounding_box()["height"] > 50
    shot(page, "05-monitoring")

    # Alerts: quota_exhausted is raised for liveness; acknowledge it.
    page.goto(f"{stack.url}/console/alerts/")
    reload_until(page, "tr[data-kind=quota_exhausted]")
    row = page.locator("tr[data-kind=quota_exhausted]")
    assert "liveness" in row.inner_text() and "door-camera" in row.inner_text()
    shot(page, "06-alerts")
    row.locator("button.ack").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-kind=quota_exhausted]").count() == 0
    page.goto(f"{stack.url}/console/alerts/?show=all")
    assert "acknowledged" in page.locator("tr[data-kind=quota_exhausted]").inner_text()

    # Try it: detect on the photo, metered through the gateway; boxes drawn on the canvas.
    page.goto(f"{stack.url}/console/try/?app={app_id}")
    page.select_option("#try-api", "attributes")
    page.select_option("#try-api", "detect")
    page.set_input_files("#try-file1", str(photo))
    page.click("#try-run")
    page.wait_for_function("document.body.dataset.tryDone !== undefined && document.body.dataset.tryDone !== ''")
    assert page.evaluate("document.body.dataset.tryDone") == "0"
    result = json.loads(page.locator("#try-result").inner_text())
    face = result["result"]["face_list"][0]["face_location"]
    # The box's top edge is stroked in the box colour (#22c55e) on the canvas, at image pixel scale.
    pixel = page.evaluate(
        "([x, y]) => Array.from(document.getElementById('try-canvas1').getContext('2d').getImageData(x, y, 1, 1).data)",
        [face["left"] + face["width"] // 2, face["top"]])
    assert abs(pixel[0] - 0x22) < 30 and abs(pixel[1] - 0xC5) < 30 and abs(pixel[2] - 0x5E) < 30, pixel
    shot(page, "07-try-it")

    # Try it on attributes (a small granted pack): the labels carry gender and age.
    stack.admin("grant", "--app", key, "--api", "attributes", "--calls", "5", "--days", "30", "--json")
    page.select_option("#try-api", "attributes")
    page.click("#try-run")
    page.wait_for_function("document.body.dataset.tryDone !== ''")
    assert page.evaluate("document.body.dataset.tryDone") == "0"
    faces = json.loads(page.locator("#try-result").inner_text())["result"]["face_list"]
    assert faces[0]["gender"] in ("Male", "Female") and faces[0]["age"].isdigit()
    shot(page, "08-try-it-attributes")

    # Rotate the secret (confirmed in the browser's dialog): the old secret stops working.
    page.goto(f"{stack.url}/console/apps/{app_id}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#rotate")
    new_secret = page.locator("#app-secret").inner_text().strip()
    assert new_secret != secret
    assert signed_call(stack, key, secret, detect_code, "detect", {"imageContent": image_b64})["code"] == "4003"
    assert signed_call(stack, key, new_secret, detect_code, "detect", {"imageContent": image_b64})["code"] == "0"

    # Chinese labels, then sign out.
    page.click("#lang-zh-hans")
    page.wait_for_selector("text=我的应用")
    page.goto(f"{stack.url}/console/apps/{app_id}/")
    assert "剩余调用次数" in page.content()
    shot(page, "09-chinese")
    page.click("#sign-out")
    page.wait_for_url("**/console/login/")
