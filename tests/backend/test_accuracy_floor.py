"""Accuracy floors on a small fixed subset of the labelled eval sets, through the wire replies.

The same measurement as bench/accuracy.py (imported from there, so the figures mean the same),
on evenly spaced items: 60 LFW pairs, 40 UTKFace crops, 40 held-back mask photos, 20 NUAA frames,
40 MaskedFace-Net photos (24 masks worn correctly, 16 incorrectly), 100 faceless crops of our photos.
The floors sit a few items below today's figures: a model or pipeline change that loses accuracy
fails here, while the exact numbers live in docs/BENCHMARKS.md.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    if not (REPO.parent / "shared" / "data" / "eval").is_dir():
        pytest.skip("../shared/data/eval is not on this machine")
    spec = importlib.util.spec_from_file_location("bench_accuracy", REPO / "bench" / "accuracy.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def wire(bench, engine):
    return bench.Wire(engine)


def test_compare_lfw_pairs(bench, wire):
    row = bench.run_pairs(wire, "lfw", 60)
    assert row.items == 60
    assert row.no_face == 0
    assert row.accuracy >= 0.95, row  # 60/60 today


def test_gender_and_age_on_utkface(bench, wire):
    row = bench.run_utk(wire, 40)
    assert row.items == 40
    assert row.no_face <= 1
    # Gender, "no face" counted wrong: 33/40 today. These 40 lost 2 to the second opinion on landmarks
    # (35 before) while all 3,000 gained 10 (86.0 -> 86.4%): a small subset's noise, so 2 items' room.
    assert row.accuracy >= 0.775, row
    assert row.details["age_mae"]["all"] <= 7.5, row  # 6.03 years today (5.65 before; all 3,000: 6.26 -> 6.00)


def test_mask_on_held_back_photos(bench, wire):
    row = bench.run_mask(wire, 40)
    assert row.items == 40
    assert row.no_face <= 2, row
    assert row.accuracy >= 0.95, row  # 40/40 today


def test_mask_worn_incorrectly_on_maskedfacenet(bench, wire):
    row = bench.run_mfn(wire, 40)
    labels = row.details["labels"]
    correct = sum(v for k, v in labels.items() if k.startswith("wearing->"))
    incorrect = sum(v for k, v in labels.items() if k.startswith("incorrect->"))
    assert (row.items, correct, incorrect) == (40, 24, 16)
    assert labels.get("wearing->wearing", 0) >= 22, row  # 24/24 today
    assert labels.get("incorrect->incorrect", 0) >= 13, row  # 14/16 today


def test_liveness_on_nuaa(bench, wire):
    row = bench.run_nuaa(wire, 20)
    assert row.items == 20
    assert row.details["APCER"] <= 0.1, row
    assert row.details["ACER"] <= 0.15, row  # 0.10 today
    # The scores' ordering, whatever the threshold: every live frame above every attack today.
    assert row.details["AUC"] >= 0.98, row  # 1.0 today
    assert row.details["BPCER_at_APCER_1pct"] <= 0.2, row  # 0.0 today


def test_few_false_faces_on_faceless_crops(bench, wire):
    row = bench.run_faceless(wire, 100)
    assert row.items == 100
    assert row.details["crops_with_a_face"] <= 4, row  # 1/100 today
