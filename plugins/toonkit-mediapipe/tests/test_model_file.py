"""Finding, downloading, verifying and caching the model file (no network: file:// and a closed port)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from toonkit_mediapipe import model
from toonkit_mediapipe.model import ModelUnavailableError, download, model_path, sha256_of


def test_the_pinned_file_is_mediapipes_model(model_file: Path) -> None:
    assert sha256_of(model_file) == model.SHA256
    assert model.URL.startswith("https://storage.googleapis.com/mediapipe-assets/selfie_segmentation.tflite")


def test_download_verifies_and_writes_atomically(model_file: Path, tmp_path: Path) -> None:
    dest = download(model_file.as_uri(), tmp_path / "cache" / model.FILENAME)
    assert dest.read_bytes() == model_file.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [model.FILENAME]  # no .part left behind


def test_download_rejects_a_wrong_checksum(tmp_path: Path) -> None:
    other = tmp_path / "other.tflite"
    other.write_bytes(b"not the model")
    dest = tmp_path / "cache" / model.FILENAME
    with pytest.raises(ModelUnavailableError, match="served a file with sha256 .*expected 9ee168ec"):
        download(other.as_uri(), dest)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_offline_fails_with_one_line_naming_where_to_put_the_file(tmp_path: Path) -> None:
    dest = tmp_path / "cache" / model.FILENAME
    with pytest.raises(ModelUnavailableError) as err:
        download("http://127.0.0.1:9/selfie_segmentation.tflite", dest, timeout=5)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("cannot download selfie_segmentation.tflite from http://127.0.0.1:9/")
    assert "TOONKIT_WEIGHTS_DIR" in message and str(dest) in message
    assert not dest.exists()


def test_weights_dir_wins_and_is_used_in_place(weights_env: Path) -> None:
    assert model_path() == weights_env


def test_cache_is_filled_once_then_reused(model_file: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("TOONKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(model, "URL", model_file.as_uri())
    cached = model_path()
    assert cached == tmp_path / "cache" / "mediapipe" / model.FILENAME and cached.is_file()
    monkeypatch.setattr(model, "URL", "http://127.0.0.1:9/gone")  # a second use must not download
    assert model_path() == cached


def test_a_corrupt_cached_file_is_fetched_again(model_file: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("TOONKIT_CACHE_DIR", str(tmp_path))
    cached = tmp_path / "mediapipe" / model.FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(model_file.read_bytes()[:1000])  # an interrupted copy
    monkeypatch.setattr(model, "URL", model_file.as_uri())
    assert sha256_of(model_path()) == model.SHA256


def test_xdg_cache_home_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOONKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model.cache_dir() == tmp_path / "toonkit"


def test_explicit_path_and_no_download(model_file: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "mine.tflite"
    shutil.copy(model_file, copy)
    assert model_path(copy) == copy
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        model_path(tmp_path / "absent.tflite")
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("TOONKIT_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(ModelUnavailableError, match="downloading is off"):
        model_path(download_missing=False)
