"""The second opinion on landmarks (vision/landmarks.py): what it changes, and where it is used."""
from __future__ import annotations

import numpy as np

from face_backend.vision.landmarks import (
    SECOND_OPINION_SIDE,
    SECOND_OPINION_THRESHOLD,
    opinion_square,
    second_opinion,
)
from face_backend.vision.types import Face


def _face(photos_dir, read_bgr, engine, name: str) -> tuple[np.ndarray, Face]:
    img = read_bgr(photos_dir / name)
    return img, engine.detect(img)[0]


def test_the_landmarks_are_the_mean_of_both_detectors(photos_dir, read_bgr, engine):
    img, face = _face(photos_dir, read_bgr, engine, "009_C.jpg")
    refined = second_opinion(img, face, engine.models.second)
    assert refined.box == face.box and refined.score == face.score
    # The second detector's own candidates for this face, from the square around it.
    x0, y0, x1, y1 = opinion_square(face, img.shape)
    x, y, w, h = face.box
    assert x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1 and max(x1 - x0, y1 - y0) == 2 * max(w, h)
    theirs = engine.models.second.look(img[y0:y1, x0:x1], SECOND_OPINION_SIDE, SECOND_OPINION_THRESHOLD)
    assert len(theirs) > 1  # raw, overlapping candidates: the choice among them matters
    # The one centred nearest the face box's centre (all of 009_C's lie inside its box).
    centre = np.array([x + w / 2 - x0, y + h / 2 - y0])
    nearest = min(theirs, key=lambda f: np.hypot(*((f[0][:2] + f[0][2:]) / 2 - centre)))
    np.testing.assert_allclose(refined.landmarks, (face.landmarks + nearest[2] + [x0, y0]) / 2)
    # Two detectors of one face: their points differ by a few pixels, not by a feature.
    assert 0 < np.abs(refined.landmarks - face.landmarks).max() < 0.1 * max(face.box[2:])


def test_no_second_face_inside_the_box_leaves_the_face_as_it_was(photos_dir, read_bgr, engine):
    """A box beside the face (moved one face width to the side): the square around it holds the real
    face, so RetinaFace has candidates, but none centred inside the box: the points stay YuNet's."""
    img, face = _face(photos_dir, read_bgr, engine, "009_C.jpg")
    x, y, w, h = face.box
    beside = Face((x + w, y, w, h), face.score, face.landmarks + [w, 0])
    x0, y0, x1, y1 = opinion_square(beside, img.shape)
    assert engine.models.second.look(img[y0:y1, x0:x1], SECOND_OPINION_SIDE, SECOND_OPINION_THRESHOLD)
    assert second_opinion(img, beside, engine.models.second) is beside


def test_the_default_pack_embeds_on_the_second_opinion_and_insightface_does_not(photos_dir, read_bgr, engine):
    from face_backend.vision.engine import get_engine

    img, face = _face(photos_dir, read_bgr, engine, "009_C.jpg")
    assert engine.second_opinion is engine.models.second  # the last resort's session, loaded once
    expected = engine.recognizer.embed(img, second_opinion(img, face, engine.models.second))
    np.testing.assert_allclose(engine.embed(img, face), expected)
    assert get_engine("insightface").second_opinion is None  # SCRFD's points: measured no better


def test_every_model_that_aligns_on_landmarks_asks_for_the_second_opinion(photos_dir, read_bgr, engine, monkeypatch):
    """Compare's embeddings and the age/gender chip: one opinion per face each; detection, liveness
    (a box crop) and mask (YuNet's points: measured not worth the cost) ask for none."""
    from face_backend.vision import engine as engine_module

    asked: list[tuple[int, int, int, int]] = []
    real = engine_module.second_opinion
    monkeypatch.setattr(engine_module, "second_opinion",
                        lambda img, face, second: asked.append(face.box) or real(img, face, second))
    img = read_bgr(photos_dir / "011_3.jpg")  # three people
    faces = engine.detect(img)
    engine.liveness(img)
    engine.mask(img)
    assert asked == []
    chips: list = []
    predict_faces = engine.age_gender.predict_faces
    monkeypatch.setattr(engine.age_gender, "predict_faces", lambda work, fs: chips.extend(fs) or predict_faces(work, fs))
    engine.attributes(img)
    assert len(asked) == len(faces) > 1
    # The chips are cut on the averaged points, not YuNet's.
    opinions = [second_opinion(img, face, engine.models.second) for face in faces]
    assert [c.box for c in chips] == [o.box for o in opinions]
    for chip, opinion in zip(chips, opinions):
        np.testing.assert_allclose(chip.landmarks, opinion.landmarks)
    asked.clear()
    engine.compare(img, img)
    assert len(asked) == 2


def test_genuine_and_impostor_pairs_separate_better(shared_dir, engine, monkeypatch):
    """On the 116 curated Chinese photos (174 genuine, 6,496 impostor pairs) the second opinion
    raises the separation d' (4.63 -> 4.71 today): a change that aligns worse shows here before the
    pair accuracy moves."""
    import csv

    from face_backend.vision.image_io import decode_image

    folder = shared_dir / "data" / "eval" / "asian_celeb_faces"
    with (folder / "labels.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["curated"] == "1"]
    images = [decode_image((folder / r["path"]).read_bytes()) for r in rows]
    subjects = [engine.subject(img) for img in images]
    identities = np.array([r["identity"] for r in rows])
    upper = np.triu_indices(len(rows), 1)
    same = (identities[:, None] == identities[None, :])[upper]

    def separation() -> float:
        vectors = np.array([engine.embed(img, face) for img, face in zip(images, subjects)])
        cosines = (vectors @ vectors.T)[upper]
        genuine, impostor = cosines[same], cosines[~same]
        return float((genuine.mean() - impostor.mean()) / np.sqrt((genuine.var() + impostor.var()) / 2))

    with_opinion = separation()
    monkeypatch.setattr(engine, "second_opinion", None)
    assert with_opinion > separation() + 0.03, with_opinion
