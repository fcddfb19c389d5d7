"""Every example in examples/, the console's SDK example of each API, and every code block of the README's "First call" and "Python SDK"
sections, run as a user would (fresh process, a temporary folder with the photos) against
`facegate serve`."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps_console.examples import SECRET_PLACEHOLDER, examples_for
from facegate.apis import API_NAMES
from facegate.procs import REPO

pytestmark = pytest.mark.slow

PHOTO, PHOTO2 = "007_B.jpg", "008_B.jpg"  # one person each, the same person
README_SECTIONS = ("First call", "Python SDK")
README_URL = "http://127.0.0.1:8000"


def example_env(api_stack) -> dict[str, str]:
    app = api_stack.app
    return dict(os.environ, FACEGATE_URL=api_stack.url, FACEGATE_APP_KEY=app.app_key,
                FACEGATE_APP_SECRET=app.app_secret, FACEGATE_SERVICE_CODE=app.service_codes["detect"])


def run(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture
def workdir(tmp_path: Path, photos: Path) -> Path:
    shutil.copy(photos / PHOTO, tmp_path / "photo.jpg")
    shutil.copy(photos / PHOTO, tmp_path / "photo1.jpg")
    shutil.copy(photos / PHOTO2, tmp_path / "photo2.jpg")
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["sh", "examples/curl/detect.sh"],
    [sys.executable, "examples/python/requests_detect.py"],
    ["node", "examples/js/detect.mjs"],
], ids=["curl", "requests", "node"])
def test_wire_examples_print_a_successful_reply(api_stack, workdir, argv):
    assert shutil.which(argv[0]), f"{argv[0]} is needed to run this example"
    argv = [*argv[:-1], str(REPO / argv[-1]), str(workdir / "photo.jpg")]
    reply = json.loads(run(argv, example_env(api_stack), workdir))
    assert reply["code"] == "0" and reply["result"]["face_num"] == 1, reply


def test_sdk_example_prints_the_faces(api_stack, workdir):
    out = run([sys.executable, str(REPO / "examples/python/sdk_detect.py"), str(workdir / "photo.jpg")],
              example_env(api_stack), workdir)
    assert out.startswith("1 face(s), request ") and "box Box(" in out, out


def test_sdk_example_exits_with_the_code_on_refusal(api_stack, workdir):
    (workdir / "empty.jpg").write_bytes(b"")
    done = subprocess.run([sys.executable, str(REPO / "examples/python/sdk_detect.py"), str(workdir / "empty.jpg")],
                          env=example_env(api_stack), cwd=workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "refused: 4101" in done.stderr, done.stderr


def readme_blocks() -> list[tuple[str, str]]:
    """(language, code) of the README's runnable sections; `facegate admin` set-up lines are left out."""
    text = (REPO / "README.md").read_text()
    blocks = []
    for section in README_SECTIONS:
        body = re.search(rf"^## {section}\n(.*?)(?=^## )", text, re.S | re.M).group(1)
        for lang, code in re.findall(r"```(sh|python)\n(.*?)```", body, re.S):
            if not code.startswith(".venv/bin/facegate admin"):
                blocks.append((lang, code))
    return blocks


def fill(code: str, api_stack) -> str:
    app = api_stack.app
    code = code.replace(README_URL, api_stack.url)
    code = code.replace("<app_key>", app.app_key).replace("<app_secret>", app.app_secret)
    for api in API_NAMES:
        code = code.replace(f"<service code of {api}>", app.service_codes[api])
    assert "<" not in re.sub(r"<<|<=|< ", "", code), f"unfilled placeholder in:\n{code}"
    return code


def test_readme_has_the_runnable_blocks():
    assert [lang for lang, _ in readme_blocks()] == ["sh", "python", "python"]


@pytest.mark.parametrize("index", range(3))
def test_readme_block_runs(api_stack, workdir, index):
    lang, code = readme_blocks()[index]
    argv = ["bash", "-euo", "pipefail", "-c"] if lang == "sh" else [sys.executable, "-c"]
    out = run([*argv, fill(code, api_stack)], example_env(api_stack), workdir)
    if "from facegate.client" in code:
        assert "same person: True" in out and "refused: 4104" in out, out
    else:
        assert "'code': '0'" in out or '"code":"0"' in out, out


def test_console_sdk_examples_run(api_stack, workdir):
    app = api_stack.app
    for example in examples_for(app.app_key, app.service_codes, api_stack.url):
        out = run([sys.executable, "-c", example.sdk.replace(SECRET_PLACEHOLDER, app.app_secret)],
                  example_env(api_stack), workdir)
        kind = "CompareResult(similarity=" if example.api == "compare" else "FacesResult(faces=[Face("
        assert out.startswith(kind), (example.api, out)


def test_sdk_imports_only_requests_and_the_standard_library():
    code = ("import sys, facegate.client; heavy = {'django', 'numpy', 'cv2', 'PIL', 'onnxruntime', 'rest_framework'}; "
            "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))")
    assert run([sys.executable, "-c", code], dict(os.environ), REPO).strip() == "[]"


def test_command_line_remote_mode(api_stack, workdir):
    app = api_stack.app
    env = dict(example_env(api_stack), FACEGATE_SERVICE_CODE=app.service_codes["compare"])
    out = run([sys.executable, "-m", "facegate.cli", "compare", "photo1.jpg", "photo2.jpg", "--url", api_stack.url,
               "--app-key", app.app_key], env, workdir)
    reply = json.loads(out)
    assert reply["code"] == "0" and reply["result"] >= 0.5, reply
    (workdir / "empty.jpg").write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "facegate.cli", "detect", "empty.jpg", "--url", api_stack.url,
                           "--service-code", app.service_codes["detect"]], env=env, cwd=workdir,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and json.loads(done.stdout)["code"] == "4101", done.stdout + done.stderr
