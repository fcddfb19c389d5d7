"""Age and gender of the three annotated persons."""
from __future__ import annotations


from face_backend.api import handle


def _cases(annotations: dict) -> list[tuple[str, str, int]]:
    return [(f, p["gender"], p["approx_age"]) for p in annotations["persons"] for f in p["files"]]


def test_annotated_persons_gender_and_age(photos_dir, annotations, engine, read_bgr):
    for name, gender, age in _cases(annotations):
        img = read_bgr(photos_dir / name)
        (face, (got_gender, got_age)), *_ = engine.attributes(img)
        assert got_gender == gender, name
        assert isinstance(got_age, int) and abs(got_age - age) <= 8, (name, got_age)


def test_attributes_wire_format(photos_dir, engine, b64, body):
    reply = handle("attributes", body(imageContent=b64((photos_dir / "010_2.jpg").read_bytes())), "t", engine)
    assert reply["code"] == "0"
    faces = reply["result"]["face_list"]
    assert reply["result"]["face_num"] == len(faces) == 2
    for face in faces:
        assert face["gender"] in ("Male", "Female") and face["age"].isdigit()
        assert set(face) == {"face_location", "score", "landmarks", "gender", "age"}
    assert sorted(f["gender"] for f in faces) == ["Female", "Male"]
