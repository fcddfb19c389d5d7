"""Where the compared faces are: the compare reply carries only the similarity, so for drawing a box
on each photo the console asks the face backend's detect for the largest face of each photo, the face
the compare measured. Not metered: it only illustrates a compare call that was charged and succeeded,
and it returns boxes only."""
from __future__ import annotations

import json
from typing import Any

from gateway.forwarding import forward


def _area(face: dict[str, Any]) -> int:
    box = face.get("face_location") or {}
    return int(box.get("width", 0)) * int(box.get("height", 0))


def largest_faces(images_b64: list[str], request_id: str) -> list[dict[str, Any] | None]:
    """Per photo, {"face_location", "landmarks"} of its largest face; None where none was found."""
    found: list[dict[str, Any] | None] = []
    for n, image in enumerate(images_b64, start=1):
        reply = forward("detect", json.dumps({"imageContent": image}).encode(), f"{request_id}-face{n}")
        try:
            body = json.loads(reply.content)
            faces = body["result"]["face_list"] if body.get("code") == "0" else []
        except (ValueError, KeyError, TypeError):
            faces = []
        largest = max(faces, key=_area, default=None)
        found.append(None if largest is None else
                     {"face_location": largest["face_location"], "landmarks": largest.get("landmarks", [])})
    return found
