"""1:1 compare: same vs different persons on held-out real photos, and a one-to-twenty match."""
from __future__ import annotations

import itertools

import numpy as np

from face_backend.api import handle


def _labelled(photos_dir, annotations, fr_images):
    items = [(f"P{i}", photos_dir / f) for i, p in enumerate(annotations["persons"]) for f in p["files"]]
    items += [("obama" if p.name.startswith("obama") else "biden", p)
              for p in sorted(fr_images.glob("*.jpg")) if p.name.startswith(("obama", "biden"))]
    return items


def test_same_person_scores_at_least_half_and_others_below(photos_dir, annotations, fr_images, engine, read_bgr):
    items = _labelled(photos_dir, annotations, fr_images)
    assert len(items) == 15
    emb = []
    for label, path in items:
        img = read_bgr(path)
        emb.append((label, path.name, engine.embed(img, engine.detect(img)[0])))
    wrong = []
    for (la, na, ea), (lb, nb, eb) in itertools.combinations(emb, 2):
        score = engine.recognizer.score(float(ea @ eb))
        if (score >= 0.5) != (la == lb):
            wrong.append((na, nb, round(score, 3)))
    assert not wrong, wrong


def test_compare_api_same_and_different(photos_dir, engine, b64, body):
    def cmp(a: str, b: str) -> float:
        reply = handle("compare", body(img1Base64=b64((photos_dir / a).read_bytes()),
                                       img2Base64=b64((photos_dir / b).read_bytes())), "t", engine)
        assert reply["code"] == "0", reply
        assert isinstance(reply["result"], float) and 0.0 <= reply["result"] <= 1.0
        return reply["result"]

    assert cmp("007_B.jpg", "008_B.jpg") >= 0.5
    assert cmp("007_B.jpg", "009_C.jpg") < 0.5


def test_yao_ming_is_top1_among_players(vectron_images, engine, read_bgr):
    probe = read_bgr(vectron_images / "yaoming.jpg")
    team = read_bgr(vectron_images / "players.jpg")
    query = engine.embed(probe, engine.detect(probe)[0])
    faces = engine.detect(team)[:25]  # the players; the rest are tiny faces in the stands
    assert len(faces) >= 15
    sims = np.array([float(query @ engine.embed(team, f)) for f in faces])
    best = int(np.argmax(sims))
    assert engine.recognizer.score(sims[best]) >= 0.5
    others = np.delete(sims, best)
    assert engine.recognizer.score(others.max()) < 0.5


def test_insightface_pack_compares_and_declares_its_licence(photos_dir, read_bgr):
    from face_backend.vision.engine import get_engine

    engine = get_engine("insightface")
    a, b, c = (read_bgr(photos_dir / n) for n in ("007_B.jpg", "008_B.jpg", "009_C.jpg"))
    assert engine.compare(a, b) >= 0.5 > engine.compare(a, c)
    health = engine.health()
    assert health["pack"] == "insightface" and "non-commercial" in health["pack_notice"]
    licences = {m["name"]: m["license"] for m in health["models"]}
    insightface = [name for name in licences if "SCRFD" in name or "ArcFace" in name]
    assert len(insightface) == 2 and all("non-commercial" in licences[name] for name in insightface), licences
    assert licences["RetinaFace-mobilenet0.25 face detector"].startswith("MIT")  # the last resort
