"""`facegate detect IMAGE` / `facegate compare A B`: the API's JSON on stdout, exit code by result."""
from __future__ import annotations

import json

from facegate.cli import main


def test_detect_and_compare_print_the_wire_reply(photos_dir, capsys):
    assert main(["detect", str(photos_dir / "010_2.jpg")]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["code"] == "0" and reply["result"]["face_num"] == 2
    assert main(["compare", str(photos_dir / "007_B.jpg"), str(photos_dir / "008_B.jpg")]) == 0
    assert json.loads(capsys.readouterr().out)["result"] >= 0.5


def test_no_face_exits_1_and_bad_usage_2(photos_dir, capsys):
    assert main(["attributes", str(photos_dir / "017_0.jpg")]) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "4105"
    assert main(["compare", str(photos_dir / "007_B.jpg")]) == 2
