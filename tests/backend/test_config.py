"""The backend's one config object: README's variables and defaults, read once, refused when wrong."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from face_backend import config

VARIABLES = ["FACEGATE_BACKEND_HOST", "FACEGATE_BACKEND_PORT", "FACEGATE_BACKEND_THREADS", "FACEGATE_MAX_BODY_BYTES",
             "FACEGATE_DECODE_SLOTS", "FACEGATE_MODEL_PACK", "FACEGATE_LIVENESS_MODEL", "FACEGATE_LIVENESS_THRESHOLD", "FACEGATE_MODEL_MIRROR",
             "FACEGATE_MODEL_DOWNLOAD", "FACEGATE_ONNX_CPU", "FACEGATE_ONNX_THREADS"]


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FACEGATE_BACKEND_TOKEN", raising=False)
    return monkeypatch


def test_defaults_are_the_documented_ones(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = config.load()
    assert (cfg.host, cfg.port, cfg.max_body_bytes, cfg.model_pack, cfg.liveness_model) == (
        "127.0.0.1", 8001, 8388608, "default", "minifasnet")
    assert cfg.threads == (os.cpu_count() or 2) and cfg.decode_slots == max(1, cfg.threads // 2)
    assert cfg.model_mirror is None and not cfg.model_download and not cfg.onnx_cpu and cfg.onnx_threads == 1
    assert cfg.liveness_threshold == 0.5
    # The token is generated once into the data dir (mode 0600) and read back the same.
    assert cfg.data_dir == tmp_path and (tmp_path / "backend_token").read_text().strip() == cfg.token
    assert config.load().token == cfg.token


def test_environment_is_read(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {"FACEGATE_BACKEND_PORT": "9001", "FACEGATE_BACKEND_THREADS": "6", "FACEGATE_MAX_BODY_BYTES": "1000",
                        "FACEGATE_MODEL_PACK": " InsightFace ", "FACEGATE_MODEL_MIRROR": str(tmp_path),
                        "FACEGATE_MODEL_DOWNLOAD": "yes", "FACEGATE_ONNX_CPU": "1", "FACEGATE_BACKEND_TOKEN": "tok",
                        "FACEGATE_LIVENESS_THRESHOLD": "0.35"}.items():
        clean_env.setenv(name, value)
    cfg = config.load()
    assert (cfg.port, cfg.threads, cfg.decode_slots, cfg.max_body_bytes) == (9001, 6, 3, 1000)
    assert (cfg.model_pack, cfg.model_mirror, cfg.model_download, cfg.onnx_cpu, cfg.token) == (
        "insightface", tmp_path, True, True, "tok")
    assert cfg.liveness_threshold == 0.35
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.port = 1  # type: ignore[misc]


@pytest.mark.parametrize("name,value", [("FACEGATE_BACKEND_THREADS", "0"), ("FACEGATE_DECODE_SLOTS", "-1"),
                                        ("FACEGATE_MAX_BODY_BYTES", "lots"), ("FACEGATE_LIVENESS_THRESHOLD", "0"),
                                        ("FACEGATE_LIVENESS_THRESHOLD", "1"), ("FACEGATE_LIVENESS_THRESHOLD", "half")])
def test_wrong_numbers_are_refused(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValueError):
        config.load()


def test_read_once_per_process(clean_env: pytest.MonkeyPatch) -> None:
    first = config.get()
    clean_env.setenv("FACEGATE_BACKEND_PORT", "9999")
    assert config.get() is first and first.port == 8001
