"""facegate's engine against face_recognition (dlib) on the same LFW pairs, in one run, alternating.

Per pair, each system does what its compare needs: decode the two JPEGs, find the faces, embed one
face of each.
- facegate: the backend's own compare path (decode_image, then FaceEngine.subjects_embedded: the
  pack's detector, the subject face and the pack's recognizer, YuNet and SFace by default, the two
  photos side by side as the API runs them); same person when the calibrated score >= 0.5.
- face_recognition 1.3.0, its documented pipeline and defaults: load_image_file, face_locations
  (dlib's HOG detector, one upsample), face_encodings (dlib's ResNet, 5-point alignment) of the
  largest face; same person when the distance <= 0.6 (its compare_faces tolerance).
Pairs alternate which system goes first, so both see the same machine load. A photo without a face
makes its pair wrong. Speed is images per wall second and per CPU second of this process (dlib
runs on one thread; facegate runs a pair's two photos on two threads, one onnxruntime thread each,
which CPU seconds account for).

Install the peer first (not a facegate dependency): `make bench-peer`.

usage: .venv/bin/python bench/peer.py [--pairs 300] [--pack default]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import EVAL, PAIR_SETS, read_csv, spaced, subject_embedding  # noqa: E402
from face_backend.vision.engine import NoFaceError, get_engine  # noqa: E402
from face_backend.vision.image_io import decode_image  # noqa: E402

PEER_TOLERANCE = 0.6  # face_recognition.compare_faces' default


@dataclass
class System:
    name: str
    embed: Callable[[bytes, bytes], list[np.ndarray | None]]  # each photo's subject embedding, None without a face
    same: Callable[[np.ndarray, np.ndarray], bool]
    wall: float = 0.0
    cpu: float = 0.0
    images: int = 0
    correct: int = 0
    no_face: int = 0
    verdicts: list[bool] = field(default_factory=list)

    def pair(self, data1: bytes, data2: bytes, same: bool) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        embeddings = self.embed(data1, data2)
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self.images += 2
        missing = sum(e is None for e in embeddings)
        self.no_face += missing
        verdict = not missing and self.same(*embeddings)
        self.correct += verdict == same and not missing


def facegate(pack: str) -> System:
    engine = get_engine(pack)
    engine.warm_up()
    models = f"{type(engine.detector).__name__} + {type(engine.recognizer).__name__}"

    def embed(data1: bytes, data2: bytes) -> list[np.ndarray | None]:
        try:
            sides = engine.subjects_embedded(decode_image(data1), decode_image(data2))
        except NoFaceError:  # which photos: each alone (rare; the pair is wrong either way)
            return [subject_embedding(engine, data1), subject_embedding(engine, data2)]
        return [embedding for _, embedding in sides]

    return System(f"facegate, {pack} pack ({models})", embed, lambda a, b: engine.similarity(a, b) >= 0.5)


def peer() -> System:
    try:
        import face_recognition
    except ImportError:
        raise SystemExit("face_recognition is not installed: run `make bench-peer` first") from None

    def embed_one(data: bytes) -> np.ndarray | None:
        img = face_recognition.load_image_file(io.BytesIO(data))
        boxes = face_recognition.face_locations(img)  # (top, right, bottom, left)
        if not boxes:
            return None
        largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
        return face_recognition.face_encodings(img, [largest])[0]

    return System("face_recognition 1.3.0 (dlib HOG + ResNet)", lambda data1, data2: [embed_one(data1), embed_one(data2)],
                  lambda a, b: float(np.linalg.norm(a - b)) <= PEER_TOLERANCE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300, help="evenly spaced LFW pairs (half same-person)")
    parser.add_argument("--pack", default="default", help="facegate's model pack (default, insightface)")
    args = parser.parse_args()
    pairs = spaced(read_csv(PAIR_SETS["lfw"]), args.pairs)
    root = EVAL / "lfw_pairs"
    systems = [facegate(args.pack), peer()]
    load_start = os.getloadavg()[0]
    for n, row in enumerate(pairs):
        data1, data2 = (root / row["path1"]).read_bytes(), (root / row["path2"]).read_bytes()
        for system in (systems if n % 2 == 0 else systems[::-1]):
            system.pair(data1, data2, row["same"] == "1")
    ours, theirs = systems
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; {len(pairs)} LFW pairs "
          f"({sum(r['same'] == '1' for r in pairs)} same-person), {ours.images} images per system")
    print("| system | pair accuracy | photos without a face | images/s (wall) | images per CPU second | "
          "ms per image (wall) |\n|---|---|---|---|---|---|")
    for s in systems:
        print(f"| {s.name} | {100 * s.correct / len(pairs):.1f}% | {s.no_face} | {s.images / s.wall:.1f} | "
              f"{s.images / s.cpu:.1f} | {1000 * s.wall / s.images:.1f} |")
    print(f"| ratio facegate / face_recognition | {ours.correct / max(1, theirs.correct):.3f}x correct | – | "
          f"{(ours.images / ours.wall) / (theirs.images / theirs.wall):.1f}x | "
          f"{(ours.images / ours.cpu) / (theirs.images / theirs.cpu):.1f}x | – |")


if __name__ == "__main__":
    main()
