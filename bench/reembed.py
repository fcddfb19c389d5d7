"""How long `facegate library reembed` takes: faces embedded again per second, on real photos.

A library of N LFW photos (one face each, photos kept, enrolled through Library.handle as user/add
does) is marked as made with an older recipe, then `reembed` runs over it in this process: the
decode, detection, embedding and one write transaction per face that the command does. Printed: the
store's count before and after, wall and CPU time per face, faces per second for each --threads
value (the command's default is one), and the time of the `--check` count over the library.

usage: .venv/bin/python bench/reembed.py [--faces 300] [--threads 1,2]
"""
from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from face_backend.library.reembed import reembed  # noqa: E402
from face_backend.library.service import Library  # noqa: E402
from face_backend.vision.engine import get_engine  # noqa: E402

LFW = REPO.parent / "shared" / "data" / "eval" / "lfw_pairs"


def photos(count: int) -> list[Path]:
    """`count` distinct LFW photos in the pairs file's order."""
    seen: dict[Path, None] = {}
    with (LFW / "pairs.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            for side in ("path1", "path2"):
                seen.setdefault(LFW / row[side])
            if len(seen) >= count:
                break
    return list(seen)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=int, default=300)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts, each timed in turn")
    args = parser.parse_args()
    engine = get_engine("default")
    engine.warm_up(optional=False)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        lib = Library(folder, engine)
        try:
            def call(op: str, **body) -> dict:
                reply = lib.handle("bench", op, json.dumps(body).encode(), "bench-reembed")
                if reply["code"] != "0":
                    raise RuntimeError(f"{op}: {reply}")
                return reply["result"]

            call("app/settings", store_photos=True)
            call("group/add", group_id="g")
            for n, path in enumerate(photos(args.faces)):
                call("user/add", group_id="g", user_id=f"u{n}", imageContent=base64.b64encode(path.read_bytes()).decode())
            for threads in (int(t) for t in args.threads.split(",")):
                lib.store._db().execute("DELETE FROM face_recipes")  # as if enrolled before recipes were recorded
                started = time.perf_counter()
                counts = lib.store.recipe_counts(engine.embedding_recipe)
                check_ms = 1000 * (time.perf_counter() - started)
                wall, cpu = time.perf_counter(), time.process_time()
                report = reembed(lib.store, engine, threads=threads)
                rows.append((threads, report, counts, check_ms, time.perf_counter() - wall, time.process_time() - cpu))
        finally:
            lib.close()
    print(f"# {platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, {time.strftime('%Y-%m-%d')}: "
          f"{args.faces} LFW photos (250x250) enrolled with photos kept, all marked older before each run")
    print("| threads | embedded again | not found | older before | current after | check ms | wall ms / face | "
          "CPU ms / face | faces / s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for threads, report, counts, check_ms, wall, cpu in rows:
        per = max(report.embedded, 1)
        print(f"| {threads} | {report.embedded} | {report.not_found} | {counts['with_photo']} | {report.after['current']} | "
              f"{check_ms:.2f} | {1000 * wall / per:.1f} | {1000 * cpu / per:.1f} | {report.embedded / wall:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
