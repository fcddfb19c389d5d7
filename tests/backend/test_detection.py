"""Detection on the shared photos: every annotated face found (its nose inside a box), extras small."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from face_backend.api import handle
from face_backend.vision.image_io import MAX_IMAGE_BYTES

ANNOTATED = [f"{i:03d}" for i in range(18)]


def _check(result: dict, noses: list, scale: float = 1.0) -> None:
    boxes = [f["face_location"] for f in result["face_list"]]
    matched = set()
    for nx, ny in noses:
        nx, ny = nx * scale, ny * scale
        hits = [i for i, b in enumerate(boxes)
                if b["left"] <= nx <= b["left"] + b["width"] and b["top"] <= ny <= b["top"] + b["height"]]
        assert hits, f"annotated face at {(nx, ny)} not found in {boxes}"
        matched.update(hits)
    if noses:
        # An extra box must be a small background face: well under the smallest annotated face.
        smallest = min(boxes[i]["width"] * boxes[i]["height"] for i in matched)
        for i, b in enumerate(boxes):
            if i not in matched:
                assert b["width"] * b["height"] < 0.5 * smallest or b["width"] * b["height"] < 0.02 * max(boxes[j]["width"] * boxes[j]["height"] for j in matched), b
    areas = [b["width"] * b["height"] for b in boxes]
    assert areas == sorted(areas, reverse=True)
    for face in result["face_list"]:
        assert all(isinstance(v, int) for v in face["face_location"].values())
        assert len(face["landmarks"]) == 5 and all(isinstance(c, int) for p in face["landmarks"] for c in p)
        assert 0.0 <= face["score"] <= 1.0


@pytest.mark.parametrize("stem", ANNOTATED)
def test_every_annotated_face_found(photos_dir, annotations, engine, b64, body, stem):
    item = next(i for i in annotations["images"] if i["file"].startswith(stem))
    path = photos_dir / item["file"]
    raw = path.read_bytes()
    scale = 1.0
    if len(raw) > MAX_IMAGE_BYTES:
        # Over the limit as-is (4103, tested elsewhere): detect on a downscaled copy instead.
        img = cv2.imread(str(path))
        scale = 2000 / max(img.shape[:2])
        small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        raw = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
        assert len(raw) <= MAX_IMAGE_BYTES
    reply = handle("detect", body(imageContent=b64(raw)), f"t-{stem}", engine)
    if not item["noses"]:
        assert reply["code"] == "4105", json.dumps(reply)[:300]
        return
    assert reply["code"] == "0", reply
    assert reply["result"]["face_num"] == len(reply["result"]["face_list"]) >= len(item["noses"])
    _check(reply["result"], item["noses"], scale)


def test_small_image_upscaled_and_faces_in_original_pixels(photos_dir, engine, read_bgr):
    img = read_bgr(photos_dir / "009_C.jpg")
    small = cv2.resize(img, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)  # ~104x157
    faces = engine.detect(small)
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert 0 <= x and x + w <= small.shape[1] and 0 <= y and y + h <= small.shape[0]


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 3, 3), (1, 10000, 3), (10000, 1, 3), (3000, 7, 3), (641, 641, 3)])
def test_degenerate_image_shapes_answer_no_face(engine, b64, body, shape):
    noise = (np.random.default_rng(0).random(shape) * 255).astype(np.uint8)
    png = cv2.imencode(".png", noise)[1].tobytes()
    assert handle("detect", body(imageContent=b64(png)), "t", engine)["code"] == "4105"
