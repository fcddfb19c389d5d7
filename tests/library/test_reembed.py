"""Embedding kept photos again after a model change (face_backend/library/reembed.py), on real LFW
photos, a real library file and both index kinds; the command as users run it."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from facegate import errors
from facegate.procs import PY, REPO
from face_backend.library import reembed as reembed_module
from face_backend.library.reembed import SAME_FACE_IOU, enrolled_face, reembed
from face_backend.library.service import Library, library_folder
from face_backend.library.store import LibraryStore, face_location, partition_key
from face_backend.library.sync import IndexSync
from face_backend.vision.engine import FaceEngine
from face_backend.vision.image_io import decode_image
from library_checks import assert_consistent, open_index


@pytest.fixture(scope="module")
def older_engine() -> FaceEngine:
    """The default pack as it was before compare aligned on two detectors' landmarks: a real older
    recipe, whose embeddings of a photo differ a little from today's."""
    engine = FaceEngine("default")
    engine.second_opinion = None
    return engine


def call(lib: Library, app: str, op: str, **body) -> dict:
    reply = lib.handle(app, op, json.dumps(body).encode(), "req-reembed")
    assert reply["code"] == errors.SUCCESS, reply
    return reply["result"]


def enrol(lib: Library, app: str, photos, store_photos: bool) -> list[int]:
    """Enrol each photo as its own user in group "staff"; the stored face ids, in order."""
    call(lib, app, "app/settings", store_photos=store_photos)
    call(lib, app, "group/add", group_id="staff")
    for photo in photos:
        call(lib, app, "user/add", group_id="staff", user_id=photo.identity, imageContent=photo.b64())
    rows = lib.store._db().execute("SELECT id FROM faces WHERE app_id = ? ORDER BY id", (app,)).fetchall()
    return [r[0] for r in rows]


def make_older(lib: Library, engine: FaceEngine, face_id: int, path: Path) -> np.ndarray:
    """Give a stored face the embedding an older recipe made of its photo; that embedding."""
    img = decode_image(path.read_bytes())
    face = engine.detect(img)[0]
    vector = engine.embed(img, face)
    assert lib.store.replace_embedding(face_id, vector, json.dumps(face_location(face)), engine.embedding_recipe)
    return vector


def best_cosine(lib: Library, app: str, vector: np.ndarray) -> tuple[int, float]:
    lib.sync.catch_up()
    return lib.index.search(vector, 1, [partition_key(app, "staff")])[0]


def test_reembed_brings_kept_photos_to_the_current_recipe(tmp_path, engine, older_engine, index_kind, lfw,
                                                          monkeypatch):
    monkeypatch.setattr(reembed_module, "PAGE", 1)  # one face id a page: the paging is exercised
    lib = Library(tmp_path, engine, index=open_index(index_kind, tmp_path))
    try:
        photos = lfw["enrol"][:4]
        kept = enrol(lib, "keeps", photos, store_photos=True)
        dropped = enrol(lib, "no_photos", lfw["enrol"][4:6], store_photos=False)
        recipe = engine.embedding_recipe
        # What is embedded again is the file the client sent, byte for byte.
        assert lib.store.photo_by_id(kept[0]) == photos[0].path.read_bytes()
        assert lib.store.photo_by_id(dropped[0]) is None
        assert older_engine.embedding_recipe != recipe and "second_opinion=off" in older_engine.embedding_recipe
        assert lib.store.recipe_counts(recipe) == {"current": 6, "with_photo": 0, "without_photo": 0}

        older = [make_older(lib, older_engine, face_id, photo.path) for face_id, photo in zip(kept, photos)]
        make_older(lib, older_engine, dropped[0], lfw["enrol"][4].path)
        # A face enrolled before the library recorded recipes at all has none.
        lib.store._db().execute("DELETE FROM face_recipes WHERE face_id = ?", (kept[3],))
        assert lib.store.recipe_counts(recipe) == {"current": 1, "with_photo": 4, "without_photo": 1}
        assert lib.store.recipe_counts(recipe, "keeps") == {"current": 0, "with_photo": 4, "without_photo": 0}
        settings = call(lib, "keeps", "app/settings", older_faces=True)  # what the console shows the owner
        assert (settings["older_face_num"], settings["older_face_num_with_photo"]) == (4, 4)
        no_photos = call(lib, "no_photos", "app/settings", older_faces=True)
        assert (no_photos["older_face_num"], no_photos["older_face_num_with_photo"]) == (1, 0)
        assert "older_face_num" not in call(lib, "keeps", "app/settings")  # only a caller that asks pays
        refused = lib.handle("keeps", "app/settings", json.dumps({"older_faces": "yes"}).encode(), "req")
        assert refused["code"] == errors.BAD_BODY
        fresh = [engine.embed(img, engine.detect(img)[0]) for img in (decode_image(p.path.read_bytes()) for p in photos)]
        for face_id, old, new in zip(kept, older, fresh):
            found_id, cosine = best_cosine(lib, "keeps", new)
            assert found_id == face_id and cosine == pytest.approx(float(old @ new), abs=1e-4) and cosine < 0.999

        seq = lib.store.last_seq()
        report = reembed(lib.store, engine)
        assert (report.embedded, report.not_found, report.undecodable, report.gone) == (4, 0, 0, 0)
        assert report.before == {"current": 1, "with_photo": 4, "without_photo": 1}
        assert report.after == {"current": 5, "with_photo": 0, "without_photo": 1}  # no photo: enrol again
        assert call(lib, "keeps", "app/settings", older_faces=True)["older_face_num"] == 0  # the log moved
        # One logged add per face, which the index applies as a replacement: today's photo embedding
        # now finds its face at cosine 1.
        assert [(c.op, c.face_id) for c in lib.store.changes_since(seq)] == [("add", i) for i in kept]
        for face_id, new in zip(kept, fresh):
            found_id, cosine = best_cosine(lib, "keeps", new)
            assert found_id == face_id and cosine == pytest.approx(1.0, abs=1e-5)
        assert_consistent(lib.store, lib.index)
        # Nothing left to do: a second run touches nothing.
        again = reembed(lib.store, engine)
        assert again.embedded == 0 and lib.store.last_seq() == seq + 4
    finally:
        lib.close()


def test_a_worker_that_catches_up_after_the_run_holds_each_face_once(tmp_path, engine, index_kind, lfw):
    """A second worker on the same store whose index catches up only after the run replays each
    face's enrolment and its new embedding in one batch: two adds of one id. Its index must hold
    each face once, with the new vector."""
    lib = Library(tmp_path, engine, index=open_index(index_kind, tmp_path))
    (tmp_path / "late").mkdir()
    late_index = open_index(index_kind, tmp_path / "late")
    late = IndexSync(lib.store, late_index)
    late.open()
    try:
        kept = enrol(lib, "keeps", lfw["enrol"][:3], store_photos=True)
        lib.store._db().execute("DELETE FROM face_recipes")  # enrolled before recipes were recorded
        seq = lib.store.last_seq()
        assert reembed(lib.store, engine).embedded == 3
        changes = lib.store.changes_since(0)
        assert [c.face_id for c in changes] == kept + kept and changes[-1].seq == seq + 3
        late.catch_up()
        assert_consistent(lib.store, late_index)
        for face_id, photo in zip(kept, lfw["enrol"][:3]):
            img = decode_image(photo.path.read_bytes())
            found = late_index.search(engine.embed(img, engine.detect(img)[0]), 3, [partition_key("keeps", "staff")])
            assert found[0] == (face_id, pytest.approx(1.0, abs=1e-5)) and len({i for i, _ in found}) == len(found)
    finally:
        late.close()
        lib.close()


def test_faces_it_cannot_embed_again_keep_their_embedding(tmp_path, engine, older_engine, lfw):
    """A kept photo that no longer decodes, one whose stored box has no face in it, and one whose
    stored box is not a box are counted and left as they were; an app's run leaves other apps alone."""
    lib = Library(tmp_path, engine)
    try:
        kept = enrol(lib, "keeps", lfw["enrol"][:4], store_photos=True)
        other = enrol(lib, "other", lfw["enrol"][4:5], store_photos=True)
        for face_id, photo in zip(kept + other, lfw["enrol"][:5]):
            make_older(lib, older_engine, face_id, photo.path)
        db = lib.store._db()
        db.execute("UPDATE faces SET photo = ? WHERE id = ?", (b"\xff\xd8\xff\x00 not a jpeg", kept[0]))
        db.execute("UPDATE faces SET face_location = ? WHERE id = ?",
                   (json.dumps({"left": 0, "top": 0, "width": 20, "height": 20}), kept[1]))
        db.execute("UPDATE faces SET face_location = ? WHERE id = ?", ('{"left": 3}', kept[3]))
        read = "SELECT embedding FROM faces WHERE id = ?"
        before = {i: bytes(db.execute(read, (i,)).fetchone()[0]) for i in kept}
        report = reembed(lib.store, engine, "keeps", threads=2)  # outcomes counted across threads
        assert (report.embedded, report.undecodable, report.not_found, report.gone) == (1, 1, 2, 0)
        assert report.after == {"current": 1, "with_photo": 3, "without_photo": 0}
        after = {i: bytes(db.execute(read, (i,)).fetchone()[0]) for i in kept}
        assert [after[i] == before[i] for i in kept] == [True, True, False, True]
        assert lib.store.recipe_counts(engine.embedding_recipe, "other") == {"current": 0, "with_photo": 1, "without_photo": 0}
    finally:
        lib.close()


def test_a_library_file_from_before_recipes_counts_every_face_as_older(tmp_path, lfw, embed):
    """A library file written before recipes were recorded has no face_recipes table: opening it
    adds the table, and its faces count as made another way."""
    path = tmp_path / "library.sqlite3"
    store = LibraryStore(path)
    store.add_group("app", "staff")
    for photo in lfw["enrol"][:2]:
        store.add_face("app", "staff", photo.identity, None, embed(photo), "{}", photo.path.read_bytes(), 100, "r1")
    store.close()
    old = sqlite3.connect(path)
    old.execute("DROP TABLE face_recipes")
    old.commit()
    old.close()
    reopened = LibraryStore(path)
    try:
        assert reopened.recipe_counts("r1") == {"current": 0, "with_photo": 2, "without_photo": 0}
        assert [face_id for face_id, _ in reopened.faces_of_other_recipe("r1")] == [1, 2]
    finally:
        reopened.close()


def test_a_face_deleted_meanwhile_is_left_alone(tmp_path, engine, lfw):
    lib = Library(tmp_path, engine)
    try:
        (face_id,) = enrol(lib, "keeps", lfw["enrol"][:1], store_photos=True)
        token = lib.store._db().execute("SELECT face_token FROM faces WHERE id = ?", (face_id,)).fetchone()[0]
        call(lib, "keeps", "face/delete", face_token=token)
        seq = lib.store.last_seq()
        assert not lib.store.replace_embedding(face_id, np.ones(128, np.float32), "{}", engine.embedding_recipe)
        assert lib.store.last_seq() == seq and lib.store.photo_by_id(face_id) is None
    finally:
        lib.close()


def test_the_face_embedded_again_is_the_one_at_the_stored_box(engine, shared_dir):
    """In a photo of several people, each stored box picks its own face back; a box where no face
    is picks none."""
    for path in sorted((shared_dir / "data" / "photos").glob("*.jpg")):
        faces = engine.detect(decode_image(path.read_bytes()))
        if len(faces) >= 3:
            break
    else:
        pytest.fail("no shared photo with three faces")
    for face in faces:
        assert enrolled_face(faces, face_location(face)) is face
    x, y, w, h = faces[0].box
    shifted = {"left": x + w, "top": y, "width": w, "height": h}  # beside the face: IoU 0
    assert enrolled_face(faces[:1], shifted) is None
    half = {"left": x + int(w * (1 - SAME_FACE_IOU)), "top": y, "width": w, "height": h}  # IoU about 1/3
    assert enrolled_face(faces[:1], half) is None
    # A box a newer detector draws a little differently (moved a tenth, a tenth larger) is still its face.
    moved = {"left": x + w // 10, "top": y - h // 10, "width": w + w // 10, "height": h + h // 10}
    assert enrolled_face(faces, moved) is faces[0]


def test_command_counts_then_embeds(tmp_path, engine, older_engine, lfw):
    data = tmp_path / "data"
    lib = Library(library_folder(data, "default"), engine)
    try:
        kept = enrol(lib, "keeps", lfw["enrol"][:2], store_photos=True)
        other = enrol(lib, "other", lfw["enrol"][2:3], store_photos=True)
        for face_id, photo in zip(kept + other, lfw["enrol"][:3]):
            make_older(lib, older_engine, face_id, photo.path)
    finally:
        lib.close()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FACEGATE_DATA_DIR"] = str(data)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PY, "-m", "facegate.cli", "library", "reembed", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)

    checked = run("--check")
    assert checked.returncode == 0, checked.stderr
    assert "current recipe: 0 faces; older, photo kept: 3; older, no photo (enrol again): 0" in checked.stdout
    done = run("--app", "keeps", "--threads", "2")
    assert done.returncode == 0, done.stderr
    assert "embedded again: 2; no face at the stored box (kept as it was): 0" in done.stdout
    assert "now current: 2; older, photo kept: 0" in done.stdout
    assert "current recipe: 2 faces; older, photo kept: 1" in run("--check").stdout  # "other" left alone
    usage = subprocess.run([PY, "-m", "facegate.cli", "library"], cwd=REPO, env=env, capture_output=True, text=True)
    assert usage.returncode == 2 and "facegate library reembed" in usage.stderr
    zero = run("--threads", "0")
    assert zero.returncode == 2 and "--threads must be from 1 to" in zero.stderr
    for args, message in ((("--app", "nobody"), "no app 'nobody'"), (("--pack", "nonsense"), "unknown model pack")):
        refused = run(*args)
        assert refused.returncode == 1 and message in refused.stderr and "Traceback" not in refused.stderr


def test_no_library_yet_is_nothing_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FACEGATE_DATA_DIR"] = str(tmp_path / "empty")
    proc = subprocess.run([PY, "-m", "facegate.cli", "library", "reembed"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "nothing to do" in proc.stdout
    assert not (tmp_path / "empty").exists()  # a mistyped data dir is not created
    typo = subprocess.run([PY, "-m", "facegate.cli", "library", "reembed", "--pack", "nonsense"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert typo.returncode == 1 and "unknown model pack" in typo.stderr and not (tmp_path / "empty").exists()



def test_an_index_keeps_an_ids_last_vector_when_a_batch_repeats_it(tmp_path, index_kind):
    """Both index kinds on their own (replay also keeps one add per id): a batch naming an id twice
    leaves one row for it, with the later vector."""
    index = open_index(index_kind, tmp_path)
    try:
        rng = np.random.default_rng(7)
        a, b, c = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 128)).astype(np.float32))
        index.add("app/g", [1, 2, 1], np.stack([a, b, c]))
        assert index.count("app/g") == 2 and sorted(index.ids("app/g").tolist()) == [1, 2]
        assert index.search(c, 1, ["app/g"])[0] == (1, pytest.approx(1.0, abs=1e-5))
        assert index.search(a, 2, ["app/g"])[0][1] < 0.5  # the first vector of id 1 is gone
        with pytest.raises(ValueError):
            index.add("app/g", [3, 4], np.stack([a]))
    finally:
        index.close()


def test_threads_run_side_by_side_and_one_failing_face_stops_nothing(tmp_path, engine, older_engine, lfw,
                                                                     monkeypatch):
    """With threads=2 two faces are in flight at once (they meet at a barrier that one thread alone
    never passes), and a face whose model step raises is counted as failed while the rest go on.
    The wrapper calls the real per-face step; only the failure is made up (no photo makes our
    models raise)."""
    lib = Library(tmp_path, engine)
    try:
        kept = enrol(lib, "keeps", lfw["enrol"][:4], store_photos=True)
        for face_id, photo in zip(kept, lfw["enrol"][:4]):
            make_older(lib, older_engine, face_id, photo.path)
        real, meet, threads = reembed_module._embed_one, threading.Barrier(2, timeout=30), set()

        def step(store, engine_, recipe, face_id, location):
            threads.add(threading.get_ident())
            if face_id in kept[:2]:
                meet.wait()
            if face_id == kept[3]:
                raise RuntimeError("a model step failed")
            return real(store, engine_, recipe, face_id, location)

        monkeypatch.setattr(reembed_module, "_embed_one", step)
        report = reembed(lib.store, engine, threads=2)
        assert (report.embedded, report.failed, report.not_found, report.gone) == (3, 1, 0, 0)
        assert len(threads) == 2 and report.after == {"current": 3, "with_photo": 1, "without_photo": 0}
    finally:
        lib.close()
