"""The console in a real headless Chromium (Debian's) against a real `facegate serve`: sign in, create
an app (a reload creates no second one and shows the secret no more), buy a pack, call detect with the
shown credentials (Python requests and the page's own curl example), see it in monitoring, trigger and
acknowledge an alert, "Try it" on all five APIs (compare side by side with the compared faces boxed
and the false accept rate, the sample photo in one click, a 5 MB photo shrunk in the browser), the
face library (enrol from a shrunk 5 MB photo, search: found with another photo, a stranger unknown,
delete), rotate (a reload rotates nothing), switch to Chinese and sign out. Then every page in both
languages at 1366 and 390 px: no sideways scrolling, no English words left on Chinese pages.
Screenshots of each step go to test-artifacts/screenshots/."""
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
from facegate.operating_points import far_band
from tests.console.live_stack import PASSWORD, REPO, USER, Stack
from tests.console.seed import console_pages
from tests.console.untranslated import english_words

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
def browser():
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("FACEGATE_CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


@pytest.fixture(scope="module")
def page(browser):
    page = new_page(browser, 1366)
    yield page
    page.context.close()


def sign_in(page, stack: Stack) -> None:
    page.goto(stack.url + "/console/login/")
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url("**/console/")


def no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


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


def run_try(page, api: str, *files: Path) -> dict:
    """Run Try it on the open page; returns the wire reply (from the collapsed raw JSON)."""
    page.select_option("#try-api", api)
    page.set_input_files("#try-file1", str(files[0]))
    if len(files) > 1:
        page.set_input_files("#try-file2", str(files[1]))
    page.evaluate("document.body.dataset.tryDone = ''")
    page.click("#try-run")
    page.wait_for_function("document.body.dataset.tryDone !== ''", timeout=60_000)
    assert page.evaluate("document.body.dataset.tryDone") != "console", page.locator("#try-status").inner_text()
    return json.loads(page.locator("#try-result").text_content())


def run_sample(page, api: str) -> dict:
    """Run Try it on the shipped sample photo(s) with one click; returns the wire reply."""
    page.select_option("#try-api", api)
    page.evaluate("document.body.dataset.tryDone = ''")
    page.click("#try-sample")
    page.wait_for_function("document.body.dataset.tryDone !== ''", timeout=60_000)
    assert page.evaluate("document.body.dataset.tryDone") != "console", page.locator("#try-status").inner_text()
    return json.loads(page.locator("#try-result").text_content())


def canvas_pixel(page, canvas: str, x: int, y: int) -> list[int]:
    return page.evaluate("([id, x, y]) => Array.from(document.getElementById(id).getContext('2d')"
                         ".getImageData(x, y, 1, 1).data)", [canvas, x, y])


def test_console_end_to_end(stack: Stack, page, photo: Path, shared_dir: Path, tmp_path: Path):
    image_b64 = base64.b64encode(photo.read_bytes()).decode()

    # Sign in: the form asks for the e-mail address.
    page.goto(stack.url + "/console/")
    assert "/console/login/" in page.url
    assert page.get_attribute("#id_username", "type") == "email"
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    shot(page, "01-sign-in")
    page.click("#sign-in")
    page.wait_for_url("**/console/")
    assert page.locator("h1").inner_text() == "My apps"

    # Create an app: the secret is on the page the POST redirects to, once.
    page.fill("#id_name", "door-camera")
    page.fill("#id_description", "front door kiosk")
    page.click("#create-app button[type=submit]")
    page.wait_for_url("**/console/apps/*/?reveal=*")
    secret = page.locator("#app-secret").inner_text().strip()
    key = page.locator("#app-key").inner_text().strip()
    detect_code = page.locator("code.service-code[data-api=detect]").text_content().strip()
    liveness_code = page.locator("code.service-code[data-api=liveness]").text_content().strip()
    assert len(secret) >= 16 and len(key) == 32
    assert page.locator("code.request-url[data-api=detect]").inner_text() == stack.url + public_path(detect_code, "detect")
    page.click("button.copy[data-copy=app-secret]")
    # The clipboard write is asynchronous; the button says "Copied" once it is done (for 2 s).
    page.wait_for_selector("button.copy.done[data-copy=app-secret]:text-is('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "02-app-created")
    app_id = page.locator("#monitor-app").get_attribute("href").split("app=")[1]
    curl_example = page.locator("#curl-detect").inner_text()
    python_example = page.locator("#python-detect").inner_text()
    # A reload neither creates a second app nor shows the secret again.
    page.reload()
    assert page.locator("#app-secret").count() == 0 and page.locator("#secret-spent").count() == 1
    assert secret not in page.content()
    page.goto(f"{stack.url}/console/apps/")
    assert page.locator(".app-card", has_text="door-camera").count() == 1

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
    assert "100,000" in page.locator("#packs").inner_text()
    assert "Paid: the packs are active now." in page.locator(".flash").inner_text()
    page.reload()
    assert page.locator("#packs tbody tr").count() == 1
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
    assert "Success" in page.locator("#codes tr[data-code='0']").inner_text()
    assert int(page.locator("#mon-summary [data-k=count]").inner_text()) >= 2
    assert page.locator("#chart-count").bounding_box()["height"] > 50
    shot(page, "05-monitoring")

    # Alerts: quota_exhausted is raised for liveness; the navigation counts it; acknowledge it.
    page.goto(f"{stack.url}/console/alerts/")
    reload_until(page, "tr[data-kind=quota_exhausted]")
    row = page.locator("tr[data-kind=quota_exhausted]")
    assert "Silent liveness" in row.inner_text() and "door-camera" in row.inner_text()
    assert int(page.locator("#open-alerts").inner_text()) >= 1
    shot(page, "06-alerts")
    row.locator("button.ack").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-kind=quota_exhausted]").count() == 0
    assert "Alert acknowledged." in page.locator(".flash").inner_text()
    page.goto(f"{stack.url}/console/alerts/?show=all")
    assert "acknowledged" in page.locator("tr[data-kind=quota_exhausted]").inner_text()

    # Try it on all five APIs, metered through the gateway.
    for api, calls in [("attributes", 5), ("compare", 7), ("liveness", 5), ("mask", 5)]:
        stack.admin("grant", "--app", key, "--api", api, "--calls", str(calls), "--days", "30", "--json")
    page.goto(f"{stack.url}/console/try/?app={app_id}")
    result = run_try(page, "detect", photo)
    assert result["code"] == "0"
    face = result["result"]["face_list"][0]["face_location"]
    # The box's left edge is stroked in the box colour (#22c55e) on the canvas, at image pixel scale.
    pixel = canvas_pixel(page, "try-canvas1", face["left"], face["top"] + face["height"] // 2)
    assert abs(pixel[0] - 0x22) < 40 and abs(pixel[1] - 0xC5) < 40 and abs(pixel[2] - 0x5E) < 40, pixel
    assert page.locator("#try-faces .face-card").count() == result["result"]["face_num"]
    assert not page.locator("#try-raw").evaluate("d => d.open")  # raw JSON collapsed
    assert "Calls left for this API: 99,9" in page.locator("#try-remaining").inner_text()
    shot(page, "07-try-it")

    faces = run_try(page, "attributes", photo)["result"]["face_list"]
    assert faces[0]["gender"] in ("Male", "Female") and faces[0]["age"].isdigit()
    assert "Gender" in page.locator("#try-faces .face-card").first.inner_text()
    shot(page, "08-try-it-attributes")

    live = run_try(page, "liveness", shared_dir / "data" / "liveness" / "live_1.jpg")
    assert live["code"] == "0"
    verdict = page.locator("#try-faces .verdict").first.inner_text()
    assert "Live face" in verdict or "Spoof" in verdict  # English words for the backend's Chinese label
    assert "活体" not in page.locator("#try-faces").inner_text()
    masked = run_try(page, "mask", photo)
    assert masked["code"] == "0" and page.locator("#try-faces .face-card").count() >= 1

    # Compare side by side: two canvases next to each other, a large similarity, its verdict and the
    # false accept rate it implies. The console asks for the compared faces (the protocol's opt-in
    # face_fields) and boxes them: in the five-person photo, the subject, not the largest face.
    same = run_try(page, "compare", shared_dir / "data" / "photos" / "004_A.jpg",
                   shared_dir / "data" / "photos" / "005_A.jpg")
    assert same["code"] == "0" and same["result"]["score"] >= 0.5
    assert "Same person" in page.locator("#try-similarity").inner_text()
    assert page.locator("#try-far").get_attribute("data-band") == far_band(same["result"]["score"], "default")
    assert "pairs of strangers score this high" in page.locator("#try-far").inner_text()
    assert page.evaluate("document.body.dataset.tryBoxes") == "2"  # the compared face boxed on both photos
    shot(page, "09-try-it-compare")
    crowd = run_try(page, "compare", photo, shared_dir / "data" / "photos" / "004_A.jpg")
    box = crowd["result"]["face_location1"]
    assert box["left"] == 435  # 000_5.jpg's subject; its largest face is at left 561
    pixel = canvas_pixel(page, "try-canvas1", box["left"], box["top"] + box["height"] // 2)
    assert crowd["result"]["score"] < 0.5 and page.locator("#try-far").is_hidden()  # no FAR for a rejection
    assert all(abs(p - c) < 40 for p, c in zip(pixel, (0xDC, 0x26, 0x26))), pixel  # a red box: different people
    left, right = (page.locator(f"#try-canvas{i}").bounding_box() for i in (1, 2))
    assert right["x"] > left["x"] + left["width"] - 1 and abs(right["y"] - left["y"]) < 5
    shot(page, "09-try-it-compare-subject")

    # One click on the sample runs compare on the shipped same-person pair (both fields filled).
    sample = run_sample(page, "compare")
    assert sample["code"] == "0" and sample["result"]["score"] >= 0.5
    assert page.evaluate("[1, 2].map(i => document.getElementById('try-file' + i).files[0].name)") == [
        "astronaut.jpg", "astronaut-mirrored.jpg"]

    # A 5 MB photo is shrunk in the browser to under 2 MB, and succeeds.
    big = tmp_path / "big.jpg"
    subprocess.run([sys.executable, "-c", "import cv2, sys; cv2.imwrite(sys.argv[2], cv2.imread(sys.argv[1]),"
                    " [cv2.IMWRITE_JPEG_QUALITY, 93])", str(shared_dir / "data" / "photos" / "001_A.jpg"), str(big)],
                   check=True, timeout=60)
    assert big.stat().st_size > 4.5 * 1024 * 1024
    shrunk = run_try(page, "detect", big)
    assert shrunk["code"] == "0" and shrunk["result"]["face_num"] >= 1
    assert page.evaluate("document.body.dataset.tryShrunk") == "true"
    assert "was shrunk from" in page.locator("#try-status").inner_text()

    # Out of calls: the error says so in words, with a link to Buy.
    for _ in range(10):
        if run_try(page, "compare", photo, photo)["code"] == "4291":
            break
    assert "No calls left for this API" in page.locator("#try-error").inner_text()
    assert "/console/buy/?app=" in page.locator("#try-error a").get_attribute("href")
    shot(page, "10-try-it-no-quota")

    # Face library, through the gateway with the app's library service code: create a group, enrol
    # a person from one photo, search with another photo of them (found) and with a stranger
    # (unknown). Every form redirects: reloading the search result charges nothing.
    stack.admin("grant", "--app", key, "--api", "library", "--calls", "10", "--days", "30", "--json")
    photos = shared_dir / "data" / "photos"
    page.goto(f"{stack.url}/console/library/?app={app_id}")
    assert "Calls left for the face library: 10" in page.locator("#lib-remaining").inner_text()
    page.fill("#lib-group-id", "staff")
    page.click("#lib-group-add button[type=submit]")
    page.wait_for_selector("#lib-people")
    assert "Group staff created." in page.locator(".flash").inner_text()
    page.fill("#lib-user-id", "person_a")
    page.fill("#lib-user-info", "front desk")
    page.set_input_files("#lib-enrol-photo", str(big))  # 5 MB of 001_A.jpg: shrunk in the browser first
    page.click("#lib-enrol button[type=submit]")
    page.wait_for_selector("#lib-faces tr[data-token]")
    assert page.locator("#lib-people li[data-user=person_a]").count() == 1
    shot(page, "12-library-enrolled")

    def search(photo_name: str) -> None:
        page.set_input_files("#lib-search-photo", str(photos / photo_name))
        page.click("#lib-search-form button[type=submit]")
        page.wait_for_selector(f"#lib-result:has-text('{photo_name}')")

    search("005_A.jpg")
    match = page.locator("#lib-matches tr[data-user=person_a]")
    assert match.count() == 1 and float(match.locator("td").nth(2).inner_text()) > 0.65
    assert "Calls left for the face library: 8" in page.locator("#lib-remaining").inner_text()
    shot(page, "13-library-found")
    page.reload()  # PRG: the result is shown again, nothing is searched or charged again
    assert page.locator("#lib-matches tr[data-user=person_a]").count() == 1
    assert "Calls left for the face library: 8" in page.locator("#lib-remaining").inner_text()
    search("007_B.jpg")
    assert page.locator("#lib-unknown").is_visible() and page.locator("#lib-matches").count() == 0
    shot(page, "14-library-unknown")
    # The app's operating point, chosen on the page (a free, signed app/settings call).
    assert page.locator("#lib-face-count").inner_text().startswith("1 of ")
    page.select_option("#lib-operating-point", "1e-5")
    page.click("#lib-settings-form button[type=submit]")
    page.wait_for_selector(".flash:has-text('Library settings saved.')")
    assert page.locator("#lib-operating-point").input_value() == "1e-5"
    assert "similarity 0.767 up" in page.locator("#lib-settings").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#lib-user-delete")
    page.wait_for_selector(".flash:has-text('person_a deleted with 1 face(s).')")
    assert page.locator("#lib-people li[data-user=person_a]").count() == 0

    # Rotate the secret (confirmed in the browser's dialog): the old secret stops working, a reload
    # rotates nothing.
    page.goto(f"{stack.url}/console/apps/{app_id}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#rotate")
    page.wait_for_url("**/?reveal=*")
    new_secret = page.locator("#app-secret").inner_text().strip()
    assert new_secret != secret
    page.reload()
    assert page.locator("#app-secret").count() == 0
    assert signed_call(stack, key, secret, detect_code, "detect", {"imageContent": image_b64})["code"] == "4003"
    assert signed_call(stack, key, new_secret, detect_code, "detect", {"imageContent": image_b64})["code"] == "0"

    # Chinese labels, then sign out.
    page.click("#lang-zh-hans")
    page.wait_for_selector("text=我的应用")
    page.goto(f"{stack.url}/console/apps/{app_id}/")
    assert "剩余调用次数" in page.content()
    shot(page, "11-chinese")
    page.click("#lang-en")
    page.click("#sign-out")
    page.wait_for_url("**/console/login/")


# Words the user typed or chose (app descriptions, library ids, file names): not the console's words.
USER_DATA = {"door", "camera", "front", "kiosk", "staff", "li", "wei", "astronaut", "mirrored", "jpg"}


def fill_library(page, stack: Stack, ids: dict) -> None:
    """The seeded app's library as the pages show it: group staff, li_wei enrolled, a search result."""
    stack.admin("grant", "--app", ids["app_key"], "--api", "library", "--calls", "5", "--days", "30", "--json")
    samples = REPO / "static" / "console" / "samples"
    page.goto(f"{stack.url}/console/library/?app={ids['app']}")
    page.fill("#lib-group-id", "staff")
    page.click("#lib-group-add button[type=submit]")
    page.fill("#lib-user-id", "li_wei")
    page.set_input_files("#lib-enrol-photo", str(samples / "astronaut.jpg"))
    page.click("#lib-enrol button[type=submit]")
    page.wait_for_selector("#lib-faces tr[data-token]")
    page.set_input_files("#lib-search-photo", str(samples / "astronaut-mirrored.jpg"))
    page.click("#lib-search-form button[type=submit]")
    page.wait_for_selector("#lib-matches tr[data-user=li_wei]")


def test_every_page_in_both_languages_on_desktop_and_phone(stack: Stack, browser):
    """Every page at 1366 and 390 px, English and Chinese: a screenshot each, no sideways scrolling,
    no English words on the Chinese pages, and on phones a folded navigation in a short header."""
    seeded = subprocess.run([sys.executable, "-m", "tests.console.seed", USER], env=stack.env, cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    ids = json.loads(seeded.stdout.strip().splitlines()[-1])
    pages = console_pages(ids)
    problems = []
    for width in (1366, 390):
        page = new_page(browser, width)
        sign_in(page, stack)
        if width == 1366:
            fill_library(page, stack, ids)
        for lang in ("en", "zh-hans"):
            page.context.add_cookies([{"name": "django_language", "value": lang, "url": stack.url}])
            for name, path in pages:
                page.goto(stack.url + path)
                if name == "monitoring":
                    page.wait_for_function("document.body.dataset.monLoaded !== undefined")
                shot(page, f"page-{width}-{lang}-{name}")
                no_sideways_scroll(page)
                if lang == "zh-hans":
                    words = english_words(page.content(), allowed=USER_DATA)
                    if words:
                        problems.append(f"{width} {name}: {sorted(set(words))}")
            # The header is one short row at both widths (on phones the navigation folds).
            assert page.locator("header.topbar").bounding_box()["height"] < 70, f"{width} {lang}"
            if width == 390:
                # The menu button unfolds the navigation.
                assert not page.locator("nav a[data-nav=orders]").is_visible()
                page.click("#nav-toggle")
                assert page.locator("nav a[data-nav=orders]").is_visible()
                shot(page, f"page-{width}-{lang}-menu-open")
                no_sideways_scroll(page)
                # A Try it result on a phone: photo, then the face cards, still one column.
                page.goto(f"{stack.url}/console/try/?app={ids['app']}")
                assert run_sample(page, "detect")["code"] == "0"
                no_sideways_scroll(page)
                shot(page, f"page-{width}-{lang}-tryit-result")
        page.context.close()
    assert not problems, "\n".join(problems)
