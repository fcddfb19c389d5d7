"""Accuracy of every face API on labelled real photos, through the backend's own wire replies.

Every image goes through `face_backend.api.handle` as a base64 JSON body, exactly as a client
sends it, and the figures are read from the wire reply (code, face_list, labels, scores):

- lfw, cn: compare on LFW View 2 pairs (folds 1-5) and the curated Chinese celebrity pairs.
  Accuracy at the API's own decision (score >= 0.5; "no face" counts as wrong), TAR at FAR 1e-3.
  The impostor thresholds (FAR 1e-3/1e-4/1e-5) come from every cross-identity pair of the set's
  images, scored with the engine's own embeddings and calibration (the path compare uses), since
  the pair lists hold too few impostor pairs for small FARs.
- utk: attributes on UTKFace crops: gender accuracy ("no face" = wrong) overall, per age band
  (0-12, 13-59, 60+) and per race; age MAE over the faces found.
- nuaa: liveness on NUAA live frames and print attacks: APCER (attacks called live), BPCER (live
  frames not called live, "unclear" included), ACER; threshold-free, the AUC of the liveness scores
  and BPCER at APCER <= 1%; and a table of the three at other thresholds (LIVENESS_SWEEP).
- mfn: mask on MaskedFace-Net (mask_correct must be "wearing", mask_incorrect "incorrect").
- mask: mask on the held-back 20% of ../shared/data/mask (tools/train_mask.py's split).
- photos: detect on ../shared/data/photos: annotated faces found (nose inside a box), extra boxes.
- faceless: detect on crops of those photos that hold no face (clothes, walls, hands, furniture),
  cut and shrunk to at most 224 px like the tight face crops: every face answered is a false face.
  The rectangles are committed (bench/faceless_crops.json, drawn by --write-faceless with the
  default pack as the reference that keeps them clear of faces), so every tree and pack is
  measured on the same crops.

usage: .venv/bin/python bench/accuracy.py [--pack default,insightface]
                                          [--sets lfw,cn,utk,nuaa,mfn,mask,photos,faceless]
                                          [--limit N] [--json out.json] [--cost [PART]] [--write-faceless]
--limit N takes N evenly spaced items of each set (pairs for lfw/cn) for a quick run.
--cost [large-passes|last-resort|second-opinion] also answers every call with that part of the
engine off (the detector's large-face passes or its last resort, or the second opinion on landmarks
for the recognizer and the age/gender chip) and prints what it costs.
"""
from __future__ import annotations

import argparse
import base64
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from face_backend.api import LIVENESS_TEXT, handle  # noqa: E402
from face_backend.vision import detector  # noqa: E402
from face_backend.vision.engine import FaceEngine, get_engine  # noqa: E402
from face_backend.vision.image_io import MAX_IMAGE_BYTES, decode_image, reduction  # noqa: E402
from face_backend.vision.subject import subject_face  # noqa: E402
from face_backend.vision.types import LivenessVerdict  # noqa: E402

LIVE = LIVENESS_TEXT[LivenessVerdict.LIVE]  # the wire reply's word for a live face
from facegate.apis import APIS  # noqa: E402
from train_mask import CLASSES as MASK_CLASSES, SEED as MASK_SEED, stratified_split  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
EVAL = SHARED / "eval"
COST_PARTS = ("large-passes", "last-resort", "second-opinion")
SETS = ("lfw", "cn", "utk", "nuaa", "mfn", "mask", "photos", "faceless")
FARS = (1e-3, 1e-4, 1e-5)
AGE_BANDS = (("0-12", 0, 12), ("13-59", 13, 59), ("60+", 60, 200))


@dataclass
class Row:
    """One line of the table: a set measured with one pack."""

    pack: str
    set: str
    api: str
    items: int = 0
    correct: int = 0
    no_face: int = 0
    seconds: float = 0.0
    images: int = 0
    tar: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.correct / self.items if self.items else 0.0

    @property
    def ms_per_image(self) -> float:
        return 1000 * self.seconds / self.images if self.images else 0.0


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def spaced(items: list, limit: int | None) -> list:
    """`limit` evenly spaced items (all when limit is None): both classes of ordered lists survive."""
    if limit is None or limit >= len(items):
        return items
    idx = np.unique(np.linspace(0, len(items) - 1, limit).round().astype(int))
    return [items[i] for i in idx]


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


class Wire:
    """Calls `handle` for one engine and times each call (base64 encoding happens before the clock)."""

    def __init__(self, engine: FaceEngine) -> None:
        self.engine = engine

    def call(self, api: str, row: Row, *images: bytes) -> dict:
        body = json.dumps(dict(zip(APIS[api].image_fields, (b64(i) for i in images)))).encode()
        start = time.perf_counter()
        reply = handle(api, body, f"bench-{row.set}", self.engine)
        row.seconds += time.perf_counter() - start
        row.images += len(images)
        if reply["code"] == "4105":
            row.no_face += 1
        elif reply["code"] != "0":
            raise RuntimeError(f"{api} answered {reply}")
        return reply


class CostWire(Wire):
    """Also answers each call with one part of the engine off (`part`: "large-passes", the
    detector's large-face passes; "last-resort", its last-resort detector; "second-opinion", the
    second detector's landmarks for the aligned models), alternating the order, and sums both variants' CPU
    time (robust to other load on a shared machine) and wall time."""

    def __init__(self, engine: FaceEngine, part: str) -> None:
        super().__init__(engine)
        self.part = part
        self.cost: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._warm: set[str] = set()

    @contextmanager
    def _off(self) -> Iterator[None]:
        """The engine with `part` turned off, restored after."""
        engine = self.engine
        saved = detector.LARGE_PASS_SIDES, engine.detector.last_resort, engine.second_opinion
        try:
            if self.part == "large-passes":
                detector.LARGE_PASS_SIDES = ()
            elif self.part == "last-resort":
                engine.detector.last_resort = None
            else:
                engine.second_opinion = None
            yield
        finally:
            detector.LARGE_PASS_SIDES, engine.detector.last_resort, engine.second_opinion = saved

    def call(self, api: str, row: Row, *images: bytes) -> dict:
        body = json.dumps(dict(zip(APIS[api].image_fields, (b64(i) for i in images)))).encode()
        if api not in self._warm:  # an API's first call pays one-time set-up: keep it off the clock
            handle(api, body, "bench-warm-up", self.engine)
            self._warm.add(api)
        for name in (("off", "on") if row.items % 2 else ("on", "off")):
            with self._off() if name == "off" else nullcontext():
                cpu, wall = time.process_time(), time.perf_counter()
                handle(api, body, f"bench-{row.set}", self.engine)
                self.cost[row.set][f"cpu_{name}"] += time.process_time() - cpu
                self.cost[row.set][f"wall_{name}"] += time.perf_counter() - wall
        self.cost[row.set]["images"] += len(images)
        return super().call(api, row, *images)


# -- compare -----------------------------------------------------------------------------------------
PAIR_SETS = {"lfw": EVAL / "lfw_pairs" / "pairs.csv", "cn": EVAL / "asian_celeb_faces" / "pairs_curated_cn.csv"}


def subject_embedding(engine: FaceEngine, data: bytes) -> np.ndarray | None:
    """The embedding compare uses for one photo (same decoding, same subject face), or None."""
    img = decode_image(data)
    faces = engine.detect(img)
    if not faces:
        return None
    return engine.embed(img, subject_face(faces, reduction(img)[2]))


def impostor_cosines(engine: FaceEngine, images: dict[str, bytes], identity: dict[str, str]) -> np.ndarray:
    """Cosines of every cross-identity pair of images (each image's subject face)."""
    names, vectors = [], []
    for name, data in images.items():
        vec = subject_embedding(engine, data)
        if vec is not None:
            names.append(name)
            vectors.append(vec)
    if not vectors:
        return np.zeros(0)
    emb = np.array(vectors, dtype=np.float32)
    ids = np.array([identity[n] for n in names])
    out = []
    for start in range(0, len(emb), 512):  # blocks keep the cosine matrix small
        rows = np.arange(start, min(start + 512, len(emb)))
        cos = emb[rows] @ emb.T
        keep = (np.arange(len(emb))[None, :] > rows[:, None]) & (ids[rows][:, None] != ids[None, :])
        out.append(cos[keep])
    return np.concatenate(out)


def far_threshold(engine: FaceEngine, impostor_cos: np.ndarray, far: float) -> float | None:
    """Smallest calibrated score with at most `far` of impostors at or above it; None with too few.

    Worked out on cosines, then mapped through the recognizer's (monotone) calibration.
    """
    if len(impostor_cos) < 1 / far:
        return None
    k = int(np.floor(far * len(impostor_cos)))  # impostors allowed at or above the threshold
    top = np.sort(impostor_cos)[::-1]
    return engine.recognizer.score(float(np.nextafter(top[k], np.float32(2)))) if k < len(top) else 0.0


def run_pairs(wire: Wire, name: str, limit: int | None, thresholds: dict | None = None) -> Row:
    """Compare on a pair set; with `thresholds`, also the impostor thresholds and TAR (slower:
    every image is embedded once more)."""
    row = Row(wire.engine.pack.name, name, "compare")
    folder = PAIR_SETS[name].parent
    pairs = spaced(read_csv(PAIR_SETS[name]), limit)
    cache: dict[str, bytes] = {}
    identity: dict[str, str] = {}
    for p in pairs:
        for k in ("1", "2"):
            cache.setdefault(p["path" + k], (folder / p["path" + k]).read_bytes())
            identity[p["path" + k]] = p["identity" + k]
    genuine: list[float] = []
    for p in pairs:
        reply = wire.call("compare", row, cache[p["path1"]], cache[p["path2"]])
        score = float(reply["result"]) if reply["code"] == "0" else None
        same = p["same"] == "1"
        row.items += 1
        row.correct += score is not None and (score >= 0.5) == same
        if same:
            genuine.append(score if score is not None else -1.0)
    row.details = {"pairs": len(pairs), "same": len(genuine)}
    if thresholds is None:
        return row
    impostors = impostor_cosines(wire.engine, cache, identity)
    cuts = {far: far_threshold(wire.engine, impostors, far) for far in FARS}
    if cuts[1e-3] is not None:
        row.tar = float(np.mean(np.array(genuine) >= cuts[1e-3]))
    thresholds[(row.pack, name)] = {"impostor_pairs": int(len(impostors)), **{f"{far:g}": cuts[far] for far in FARS}}
    return row


# -- attributes ------------------------------------------------------------------------------------
def band(age: int) -> str:
    return next(name for name, lo, hi in AGE_BANDS if lo <= age <= hi)


def run_utk(wire: Wire, limit: int | None) -> Row:
    row = Row(wire.engine.pack.name, "utk", "attributes")
    folder = EVAL / "utkface_age"
    groups: dict[str, list[int]] = defaultdict(list)  # gender right (1) / wrong (0) per group
    errors: dict[str, list[float]] = defaultdict(list)  # age errors per band
    for item in spaced(read_csv(folder / "labels.csv"), limit):
        reply = wire.call("attributes", row, (folder / item["path"]).read_bytes())
        age = int(item["age"])
        right = 0
        if reply["code"] == "0":
            face = reply["result"]["face_list"][0]
            right = int(face["gender"].lower() == item["gender"])
            err = abs(int(face["age"]) - age)
            errors["all"].append(err)
            errors[band(age)].append(err)
        row.items += 1
        row.correct += right
        for group in ("all", f"age {band(age)}", f"race {item['race']}"):
            groups[group].append(right)
    row.details = {
        "gender": {g: round(float(np.mean(v)), 4) for g, v in sorted(groups.items())},
        "age_mae": {g: round(float(np.mean(v)), 2) for g, v in sorted(errors.items())},
    }
    return row


# -- liveness --------------------------------------------------------------------------------------
# Liveness thresholds the NUAA sweep prints, with the configured one (FACEGATE_LIVENESS_THRESHOLD).
LIVENESS_SWEEP = (0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5)


def ordered_share(high: np.ndarray, low: np.ndarray) -> float:
    """AUC: the share of (high, low) pairs in the right order, ties counting half."""
    if not high.size or not low.size:
        return 0.0
    return float(np.mean((high[:, None] > low[None, :]) + 0.5 * (high[:, None] == low[None, :])))


def liveness_errors(live: np.ndarray, spoof: np.ndarray, threshold: float) -> dict[str, float]:
    """APCER, BPCER and ACER of live and spoof frames' liveness scores at one threshold; a frame
    without a face counts as rejected (score -1): an error for a live one, not for an attack."""
    apcer = float(np.mean(spoof >= threshold)) if spoof.size else 0.0
    bpcer = float(np.mean(live < threshold)) if live.size else 0.0
    return {"APCER": round(apcer, 4), "BPCER": round(bpcer, 4), "ACER": round((apcer + bpcer) / 2, 4)}


def run_nuaa(wire: Wire, limit: int | None) -> Row:
    row = Row(wire.engine.pack.name, "nuaa", "liveness")
    folder = EVAL / "nuaa_antispoof"
    scores: dict[str, list[float]] = {"live": [], "spoof": []}
    said_live: dict[str, list[bool]] = {"live": [], "spoof": []}
    labels: Counter = Counter()
    for item in spaced(read_csv(folder / "labels.csv"), limit):
        reply = wire.call("liveness", row, (folder / item["path"]).read_bytes())
        face = reply["result"]["face_list"][0] if reply["code"] == "0" else None
        label = face["FaceAntiSpoofing"] if face else "no face"
        labels[(item["label"], label)] += 1
        scores[item["label"]].append(face["liveness_score"] if face else -1.0)
        said_live[item["label"]].append(label == LIVE)
        row.items += 1
        row.correct += (label == LIVE) == (item["label"] == "live")
    live, spoof = np.array(scores["live"]), np.array(scores["spoof"])
    # The API's verdicts (an unclear face is not live) give the table's figures; the sweep and the
    # threshold-free figures are on the scores alone.
    apcer = float(np.mean(said_live["spoof"])) if said_live["spoof"] else 0.0
    bpcer = 1.0 - float(np.mean(said_live["live"])) if said_live["live"] else 0.0
    # Threshold-free: the share of (live, spoof) frame pairs ordered right, and BPCER at the lowest
    # threshold where at most 1% of attacks pass.
    auc = ordered_share(live, spoof)
    allowed = int(np.floor(0.01 * spoof.size))
    at_1pct = float(np.sort(spoof)[::-1][allowed]) + 1e-9 if spoof.size > allowed else 0.0
    row.details = {"APCER": round(apcer, 4), "BPCER": round(bpcer, 4), "ACER": round((apcer + bpcer) / 2, 4),
                   "AUC": round(auc, 5), "BPCER_at_APCER_1pct": liveness_errors(live, spoof, at_1pct)["BPCER"],
                   "sweep": {f"{t:g}": liveness_errors(live, spoof, t)
                             for t in sorted({*LIVENESS_SWEEP, wire.engine.models.liveness.threshold})},
                   "labels": {f"{k[0]}->{k[1]}": v for k, v in sorted(labels.items())}}
    return row


# -- mask ------------------------------------------------------------------------------------------
def run_mask_items(wire: Wire, name: str, items: Iterable[tuple[Path, str]]) -> Row:
    """Mask API on (photo, expected label) items; "no face" counts as wrong."""
    row = Row(wire.engine.pack.name, name, "mask")
    labels: Counter = Counter()
    for path, expected in items:
        reply = wire.call("mask", row, path.read_bytes())
        label = reply["result"]["face_list"][0]["mask"] if reply["code"] == "0" else "no face"
        labels[(expected, label)] += 1
        row.items += 1
        row.correct += label == expected
    row.details = {"labels": {f"{k[0]}->{k[1]}": v for k, v in sorted(labels.items())}}
    return row


def run_mfn(wire: Wire, limit: int | None) -> Row:
    folder = EVAL / "maskedfacenet_subset"
    expected = {"mask_correct": "wearing", "mask_incorrect": "incorrect"}
    items = [(folder / i["path"], expected[i["label"]]) for i in read_csv(folder / "labels.csv")]
    return run_mask_items(wire, "mfn", spaced(items, limit))


def mask_validation() -> list[tuple[Path, str]]:
    """The held-back 20% of ../shared/data/mask, split exactly as tools/train_mask.py splits it
    (files sorted per class folder, unreadable files skipped, stratified with its seed)."""
    paths, labels = [], []
    for label, folder in enumerate(MASK_CLASSES):
        for path in sorted((SHARED / "mask" / folder).glob("*")):
            # train_mask.py skips what cv2.imread cannot read; a 1/8 grey decode tells the same, faster.
            if cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
                continue
            paths.append(path)
            labels.append(label)
    _, val = stratified_split(np.array(labels), MASK_SEED)
    return [(paths[i], "wearing" if labels[i] == 1 else "not_wearing") for i in val]


def run_mask(wire: Wire, limit: int | None) -> Row:
    return run_mask_items(wire, "mask", spaced(mask_validation(), limit))


# -- detect ----------------------------------------------------------------------------------------
def jpeg(img: np.ndarray) -> bytes:
    """A picture the bench made (a smaller copy, a crop), as the JPEG a client would send."""
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def photo_bytes(path: Path) -> tuple[bytes, float]:
    """The photo, or a 2000 px copy when it is over the API's size limit, and that copy's scale."""
    raw = path.read_bytes()
    if len(raw) <= MAX_IMAGE_BYTES:
        return raw, 1.0
    img = cv2.imread(str(path))
    scale = 2000 / max(img.shape[:2])
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return jpeg(small), scale


def run_photos(wire: Wire, limit: int | None) -> Row:
    """Annotated faces found (nose inside a box); boxes matching no annotated nose are extras."""
    row = Row(wire.engine.pack.name, "photos", "detect")
    annotations = json.loads((SHARED / "photos" / "annotations.json").read_text())
    found = total = extra = 0
    for item in spaced(annotations["images"], limit):
        data, scale = photo_bytes(SHARED / "photos" / item["file"])
        reply = wire.call("detect", row, data)
        boxes = [f["face_location"] for f in reply["result"]["face_list"]] if reply["code"] == "0" else []
        noses = [(x * scale, y * scale) for x, y in item["noses"]]
        inside = [[b["left"] <= x <= b["left"] + b["width"] and b["top"] <= y <= b["top"] + b["height"]
                   for b in boxes] for x, y in noses]
        found += sum(any(hits) for hits in inside)
        total += len(noses)
        extra += sum(not any(hits[i] for hits in inside) for i in range(len(boxes)))
        row.items += 1
        row.correct += all(any(hits) for hits in inside) and (len(boxes) > 0) == (len(noses) > 0)
    if row.no_face:  # photos annotated with no face answer 4105 by design
        row.details["no_face_expected"] = sum(not i["noses"] for i in spaced(annotations["images"], limit))
    row.details.update({"faces_found": f"{found}/{total}", "extra_boxes": extra})
    return row


FACELESS_RECTS = REPO / "bench" / "faceless_crops.json"
FACELESS_SEED = 20261126
FACELESS_PER_PHOTO = 25
FACELESS_SIDE = 224


def write_faceless_rects(engine: FaceEngine) -> int:
    """Draw the faceless set once and commit it (bench/faceless_crops.json), so that later detector
    changes are measured on the same crops: seeded random rectangles of the annotated photos that
    keep clear of every face, i.e. of every annotated nose and of every box the given (reference)
    engine finds in the whole photo, both grown by the size of the face or the rectangle. Returns
    how many were written. Rectangles are in each photo's own pixels, like the annotations."""
    rng = np.random.default_rng(FACELESS_SEED)
    annotations = json.loads((SHARED / "photos" / "annotations.json").read_text())
    rects = []
    for item in annotations["images"]:
        data, scale = photo_bytes(SHARED / "photos" / item["file"])
        img = decode_image(data, allow_reduced=False)  # boxes and noses in the same pixels as img
        height, width = img.shape[:2]
        keep_out = [(x - w, y - h, x + 2 * w, y + 2 * h) for x, y, w, h in (f.box for f in engine.detect(img))]
        noses = [(x * scale, y * scale) for x, y in item["noses"]]
        kept = 0
        for _ in range(20 * FACELESS_PER_PHOTO):
            side = int(rng.integers(60, max(61, min(height, width) // 2)))
            aspect = float(rng.uniform(0.6, 1.6))
            cw, ch = min(width, int(side * min(1.0, aspect))), min(height, int(side / max(1.0, aspect)))
            x0, y0 = int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1))
            if any(x0 < bx1 and bx0 < x0 + cw and y0 < by1 and by0 < y0 + ch for bx0, by0, bx1, by1 in keep_out):
                continue
            if any(x0 - cw <= nx <= x0 + 2 * cw and y0 - ch <= ny <= y0 + 2 * ch for nx, ny in noses):
                continue
            rects.append({"file": item["file"], "box": [round(v / scale) for v in (x0, y0, cw, ch)]})
            kept += 1
            if kept == FACELESS_PER_PHOTO:
                break
    lines = ",\n".join(json.dumps(r) for r in rects)  # a line a crop: reviewable diffs
    FACELESS_RECTS.write_text(f'{{"seed": {FACELESS_SEED}, "reference_pack": "{engine.pack.name}", "crops": [\n{lines}\n]}}\n')
    return len(rects)


def faceless_crops(limit: int | None = None) -> list[np.ndarray]:
    """`limit` evenly spaced committed faceless rectangles (all when None) cut from the photos (as
    the photos set sends them) and shrunk to at most FACELESS_SIDE px, the size of the tight face
    crops the large-face passes exist for. A rectangle outside its photo's annotated size means the
    photos changed: the set must be drawn anew (--write-faceless), so that raises."""
    sizes = {i["file"]: (i["width"], i["height"])
             for i in json.loads((SHARED / "photos" / "annotations.json").read_text())["images"]}
    crops = []
    photos: dict[str, tuple[np.ndarray, float]] = {}
    for rect in spaced(json.loads(FACELESS_RECTS.read_text())["crops"], limit):
        x, y, w, h = rect["box"]
        width, height = sizes[rect["file"]]
        if not (x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width + 1 and y + h <= height + 1):
            raise ValueError(f"faceless rectangle {rect} lies outside {rect['file']} ({width}x{height})")
        if rect["file"] not in photos:
            photos.clear()  # one decoded photo at a time (the crops below are copies): some are 30 MP
            data, scale = photo_bytes(SHARED / "photos" / rect["file"])
            photos[rect["file"]] = decode_image(data, allow_reduced=False), scale
        img, scale = photos[rect["file"]]
        x0, y0, cw, ch = (round(v * scale) for v in rect["box"])
        crop = img[y0 : y0 + ch, x0 : x0 + cw].copy()
        shrink = FACELESS_SIDE / max(crop.shape[:2])
        if shrink < 1:
            crop = cv2.resize(crop, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        crops.append(crop)
    return crops


def run_faceless(wire: Wire, limit: int | None) -> Row:
    """Detect on faceless crops: the right answer is "no face" (4105); any face is a false one."""
    row = Row(wire.engine.pack.name, "faceless", "detect")
    false_faces = 0
    for crop in faceless_crops(limit):
        reply = wire.call("detect", row, jpeg(crop))
        found = len(reply["result"]["face_list"]) if reply["code"] == "0" else 0
        false_faces += found
        row.items += 1
        row.correct += found == 0
    row.details = {"crops_with_a_face": row.items - row.correct, "false_faces": false_faces}
    return row


RUNNERS: dict[str, Callable[[Wire, int | None], Row]] = {
    "utk": run_utk, "nuaa": run_nuaa, "mfn": run_mfn, "mask": run_mask, "photos": run_photos,
    "faceless": run_faceless,
}


def detail_text(row: Row) -> str:
    d = row.details
    if row.set in PAIR_SETS:
        return f"{d['same']} same / {d['pairs'] - d['same']} different pairs"
    if row.set == "utk":
        g = d["gender"]
        groups = ", ".join(f"{k} {v:.1%}" for k, v in g.items() if k != "all")
        mae = ", ".join(f"{k} {v}" for k, v in d["age_mae"].items())
        return f"gender {groups}; age MAE {mae}"
    if row.set == "nuaa":
        return (f"APCER {d['APCER']:.1%}, BPCER {d['BPCER']:.1%}, ACER {d['ACER']:.1%}; "
                f"threshold-free: AUC {d['AUC']:.4f}, BPCER {d['BPCER_at_APCER_1pct']:.1%} at APCER ≤ 1%")
    if row.set in ("mfn", "mask"):
        return ", ".join(f"{k} {v}" for k, v in d["labels"].items())
    return ", ".join(f"{k} {v}" for k, v in d.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pack", default="default,insightface", help="comma-separated model packs")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {','.join(SETS)}")
    parser.add_argument("--limit", type=int, default=None, help="items per set (evenly spaced)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--write-faceless", action="store_true",
                        help="draw the faceless set's rectangles anew into bench/faceless_crops.json and stop")
    parser.add_argument("--cost", nargs="?", const="large-passes", choices=COST_PARTS, default=None,
                        help="also time every call with this part of the engine off (3x slower; "
                             "default large-passes)")
    args = parser.parse_args()
    if args.write_faceless:
        print(f"{write_faceless_rects(get_engine('default'))} rectangles written to {FACELESS_RECTS}")
        return 0
    sets = [s for s in args.sets.split(",") if s]
    unknown = set(sets) - set(SETS)
    if unknown:
        parser.error(f"unknown sets {sorted(unknown)}")

    rows: list[Row] = []
    wires: dict[str, Wire] = {}
    thresholds: dict = {}
    set_seconds: dict[tuple[str, str], float] = {}
    for pack in args.pack.split(","):
        engine = get_engine(pack)
        engine.warm_up(optional=False)
        wire = wires[pack] = CostWire(engine, args.cost) if args.cost else Wire(engine)
        for name in sets:
            started = time.perf_counter()
            row = run_pairs(wire, name, args.limit, thresholds) if name in PAIR_SETS else RUNNERS[name](wire, args.limit)
            set_seconds[(pack, name)] = time.perf_counter() - started
            rows.append(row)
            print(f"# {pack} {name}: {row.items} items in {set_seconds[(pack, name)]:.0f} s", file=sys.stderr, flush=True)

    print("| pack | set | API | items | accuracy at API decision | TAR @ FAR 1e-3 | no face | ms / image | details |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tar = f"{r.tar:.1%}" if r.tar is not None else "—"
        print(f"| {r.pack} | {r.set} | {r.api} | {r.items} | {r.accuracy:.1%} | {tar} | {r.no_face} | "
              f"{r.ms_per_image:.1f} | {detail_text(r)} |")
    if thresholds:
        print("\nImpostor-score thresholds (calibrated compare score; every cross-identity image pair):")
        print("| pack | set | impostor pairs | FAR 1e-3 | FAR 1e-4 | FAR 1e-5 |")
        print("|---|---|---|---|---|---|")
        for (pack, name), t in thresholds.items():
            cells = " | ".join(f"{t[f'{far:g}']:.4f}" if t[f"{far:g}"] is not None else "— (too few)" for far in FARS)
            print(f"| {pack} | {name} | {t['impostor_pairs']} | {cells} |")
    sweeps = [r for r in rows if r.set == "nuaa"]
    if sweeps:
        print("\nLiveness threshold (FACEGATE_LIVENESS_THRESHOLD) on the NUAA frames' scores: APCER / BPCER / ACER")
        print("| pack | " + " | ".join(sweeps[0].details["sweep"]) + " |")
        print("|---|" + "---|" * len(sweeps[0].details["sweep"]))
        for r in sweeps:
            cells = " | ".join(f"{e['APCER']:.1%} / {e['BPCER']:.1%} / {e['ACER']:.1%}" for e in r.details["sweep"].values())
            print(f"| {r.pack} | {cells} |")
    if args.cost:
        print(f"\nCost of the engine's {args.cost} (same calls, off vs on, alternating; ms per image):")
        print("| pack | set | API | CPU off | CPU on | CPU ratio | wall off | wall on | wall ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            c = wires[r.pack].cost[r.set]
            per = {k: 1000 * c[k] / max(c["images"], 1) for k in ("cpu_off", "cpu_on", "wall_off", "wall_on")}
            print(f"| {r.pack} | {r.set} | {r.api} | {per['cpu_off']:.1f} | {per['cpu_on']:.1f} | "
                  f"{per['cpu_on'] / max(per['cpu_off'], 1e-9):.3f} | {per['wall_off']:.1f} | {per['wall_on']:.1f} | "
                  f"{per['wall_on'] / max(per['wall_off'], 1e-9):.3f} |")
    print("\nSeconds per set: " + ", ".join(f"{p}/{s} {v:.0f}" for (p, s), v in set_seconds.items()))
    if args.json:
        args.json.write_text(json.dumps({
            "rows": [{**r.__dict__, "accuracy": r.accuracy, "ms_per_image": r.ms_per_image} for r in rows],
            "thresholds": [{"pack": p, "set": s, **t} for (p, s), t in thresholds.items()],
            "seconds": {f"{p}/{s}": v for (p, s), v in set_seconds.items()},
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
