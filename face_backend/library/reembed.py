"""Embedding a library's kept photos again after a model change: `facegate library reembed`.

A face's embedding depends on the models and the alignment that made it (FaceEngine.embedding_recipe),
and the library records that recipe per face. After an upgrade changes it, old and new embeddings
of one photo still agree closely (cosine 0.974 on average between the last two recipes) but not
exactly, so searches score faces enrolled before a little differently from faces enrolled after.
For apps that keep photos (app/settings store_photos), this command embeds each such face again
from its photo: the face found where the stored box was (the box overlapping it most, at least
half), with the engine's current recipe. It writes only the store, each face in its own transaction
logged as an add, so running backends and their indexes (embedded or Milvus) pick the new vectors up
from the change log as they do any enrolment, and it can run while they serve: once every backend
runs the new models (until then their probes and enrolments are made the old way). Faces without a
photo cannot be embedded again: the command counts them (their users must enrol again).
"""
from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from face_backend.library.store import LibraryStore, face_location
from face_backend.vision.engine import FaceEngine
from face_backend.vision.image_io import ImageError, decode_image
from face_backend.vision.types import Face

# A face counts as the enrolled one when its box overlaps the stored box at least this much (IoU).
SAME_FACE_IOU = 0.5
PAGE = 100  # face ids read per query; photos are read one at a time
MAX_THREADS = 32

log = logging.getLogger("face_backend.library.reembed")


@dataclass
class ReembedReport:
    """What a run did; `before` and `after` are recipe_counts of the faces it covered."""

    before: dict[str, int]
    after: dict[str, int] = field(default_factory=dict)
    embedded: int = 0
    not_found: int = 0  # no face where the stored box was (or no readable box): the old embedding is kept
    undecodable: int = 0  # the kept photo no longer decodes (or is past today's limits)
    gone: int = 0  # deleted while the run went on
    failed: int = 0  # a model step raised on this photo (logged): the old embedding is kept


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def enrolled_face(faces: list[Face], location: dict[str, int]) -> Face | None:
    """Of the faces found in a kept photo, the one at the stored box (face_location), if any."""
    stored = (location["left"], location["top"], location["width"], location["height"])
    best = max(faces, key=lambda f: _iou(f.box, stored), default=None)
    return best if best is not None and _iou(best.box, stored) >= SAME_FACE_IOU else None


def _embed_again(store: LibraryStore, engine: FaceEngine, recipe: str, face_id: int, location: str) -> str:
    """One face: "embedded", or why not ("gone", "undecodable", "not_found", "failed")."""
    try:
        return _embed_one(store, engine, recipe, face_id, location)
    except sqlite3.Error:
        raise  # the library itself: the run stops (main says so in one line)
    except Exception:  # this face's photo broke a model step: the others go on
        log.exception("face %s could not be embedded again", face_id)
        return "failed"


def _embed_one(store: LibraryStore, engine: FaceEngine, recipe: str, face_id: int, location: str) -> str:
    photo = store.photo_by_id(face_id)
    if photo is None:
        return "gone"
    try:
        img = decode_image(photo)
    except ImageError:
        return "undecodable"
    try:
        face = enrolled_face(engine.detect(img), json.loads(location))
    except (ValueError, KeyError, TypeError):  # a stored box that is not one: nothing to match
        face = None
    if face is None:
        return "not_found"
    if store.replace_embedding(face_id, engine.embed(img, face), json.dumps(face_location(face)), recipe):
        return "embedded"
    return "gone"


def reembed(store: LibraryStore, engine: FaceEngine, app_id: str | None = None,
            progress: Callable[[ReembedReport], None] | None = None, threads: int = 1) -> ReembedReport:
    """Embed again every kept-photo face (of one app, or all) whose recipe is not the engine's, on
    `threads` threads (each holds one photo at a time; the store serialises the writes)."""
    recipe = engine.embedding_recipe
    report = ReembedReport(before=store.recipe_counts(recipe, app_id))
    after_id = 0
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        while page := store.faces_of_other_recipe(recipe, after_id, PAGE, app_id):
            after_id = page[-1][0]
            for outcome in pool.map(lambda item: _embed_again(store, engine, recipe, *item), page):
                setattr(report, outcome, getattr(report, outcome) + 1)
            if progress is not None:
                progress(report)
    report.after = store.recipe_counts(recipe, app_id)
    return report


def main(argv: list[str]) -> int:
    """`facegate library reembed [--app APP_ID] [--pack PACK] [--threads N] [--check]`: 0 done (or nothing to do),
    1 when it could not run (unknown pack or app, a library it cannot read, missing models)."""
    from facegate.config import data_dir_path
    from face_backend.library.service import library_folder
    from face_backend.model_store import ModelStoreError
    from face_backend.vision.packs import pack_name

    parser = argparse.ArgumentParser(
        prog="facegate library reembed",
        description="embed the face library's kept photos again with the current models (faces enrolled "
                    "before a model change); run it on the backend's host once every backend runs the new "
                    "models")
    parser.add_argument("--app", default=None, metavar="APP_ID",
                        help="one app's faces: its app_id as `facegate admin apps list --json` shows it "
                             "(default: every app's)")
    parser.add_argument("--pack", default=None, help="the model pack's library (default: FACEGATE_MODEL_PACK)")
    parser.add_argument("--threads", type=int, default=1,
                        help=f"faces embedded at once, 1 to {MAX_THREADS} (default 1: the backends keep the other cores)")
    parser.add_argument("--check", action="store_true",
                        help="only count faces by recipe (opening the library still adds the tables an "
                             "older version lacks)")
    try:
        args = parser.parse_args(argv)
        if not 1 <= args.threads <= MAX_THREADS:
            parser.error(f"--threads must be from 1 to {MAX_THREADS}")
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.pack is not None:
            pack_name(args.pack)  # a named pack is checked without reading the config
        # Looked at before anything else touches the data dir: a mistyped FACEGATE_DATA_DIR is not created.
        if not (data_dir_path() / "library").is_dir():
            print(f"no face library under {data_dir_path()} (FACEGATE_DATA_DIR): nothing to do")
            return 0
        engine = FaceEngine(args.pack)
        path = library_folder(data_dir_path(), engine.pack.name) / "library.sqlite3"
        if not path.exists():
            print(f"no library of pack {engine.pack.name} at {path}: nothing to do")
            return 0
        return _run(LibraryStore(path), engine, path, args.app, args.check, args.threads)
    except (ValueError, OSError, ModelStoreError, sqlite3.Error) as exc:  # OSError: e.g. another user's data dir
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: every face done so far is saved; run again to go on", file=sys.stderr)
        return 130


def _run(store: LibraryStore, engine: FaceEngine, path: Path, app_id: str | None, check: bool, threads: int) -> int:
    try:
        if app_id is not None and not store.has_app(app_id):
            print(f"error: no app {app_id!r} in the library at {path}", file=sys.stderr)
            return 1
        counts = store.recipe_counts(engine.embedding_recipe, app_id)
        print(f"library {path} (pack {engine.pack.name}{', app ' + app_id if app_id else ''}):")
        print(f"  current recipe: {counts['current']} faces; older, photo kept: {counts['with_photo']}; "
              f"older, no photo (enrol again): {counts['without_photo']}")
        if check or not counts["with_photo"]:
            return 0
        engine.warm_up(optional=False)

        def progress(report: ReembedReport) -> None:
            print(f"  ... {report.embedded} embedded again", file=sys.stderr, flush=True)

        report = reembed(store, engine, app_id, progress, threads)
        print(f"  embedded again: {report.embedded}; no face at the stored box (kept as it was): "
              f"{report.not_found}; photo undecodable: {report.undecodable}; deleted meanwhile: {report.gone}"
              + (f"; failed (see the log): {report.failed}" if report.failed else ""))
        print(f"  now current: {report.after['current']}; older, photo kept: {report.after['with_photo']}; "
              f"older, no photo: {report.after['without_photo']}")
        return 0
    finally:
        store.close()
