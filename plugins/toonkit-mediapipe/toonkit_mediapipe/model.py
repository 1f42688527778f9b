"""Where the selfie-segmentation model file comes from: a local weights folder, the user cache, or
MediaPipe's published asset URL (downloaded once, checked against its sha256, then cached).

Settings (environment):
    TOONKIT_WEIGHTS_DIR: a folder holding ``selfie_segmentation.tflite``; used as is, never downloaded.
    TOONKIT_CACHE_DIR: where downloads are cached (default ``$XDG_CACHE_HOME/toonkit`` or
        ``~/.cache/toonkit``); the model lands in ``<cache>/mediapipe/``.
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

FILENAME = "selfie_segmentation.tflite"
#: sha256 of MediaPipe's general (256x256) selfie-segmentation model, as shipped in mediapipe 0.10.x.
SHA256 = "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"
#: MediaPipe's own pinned asset URL for that file (``third_party/external_files.bzl`` of the mediapipe
#: repository); the ``generation`` pins the object version so the bytes match :data:`SHA256`.
URL = "https://storage.googleapis.com/mediapipe-assets/selfie_segmentation.tflite?generation=1683332563830600"


class ModelUnavailableError(RuntimeError):
    """The model file could not be found or fetched; the message is one line saying what to do."""


def cache_dir() -> Path:
    """toonkit's download cache: ``$TOONKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/toonkit``, else
    ``~/.cache/toonkit``."""
    if os.environ.get("TOONKIT_CACHE_DIR"):
        return Path(os.environ["TOONKIT_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "toonkit"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: str | Path, sha256: str = SHA256, timeout: float = 30.0) -> Path:
    """Fetch ``url`` to ``dest`` and check its sha256; the file only appears once it is verified.

    Raises:
        ModelUnavailableError: the download failed (offline, HTTP error) or the bytes do not match.
    """
    from toonkit.io_utils import atomic_write

    dest = Path(dest)

    def fetch(out: BinaryIO) -> None:
        # raising here discards atomic_write's temporary file: a failed, corrupt or concurrent download
        # never leaves a bad file at ``dest``
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ModelUnavailableError(
                f"cannot download {dest.name} from {url} ({reason}); if this machine is offline, put the "
                f"file in $TOONKIT_WEIGHTS_DIR or at {dest}") from None
        if digest.hexdigest() != sha256:
            raise ModelUnavailableError(
                f"{url} served a file with sha256 {digest.hexdigest()}, expected {sha256}; not using it")

    return atomic_write(dest, fetch, fsync=False)


def model_path(path: str | Path | None = None, *, download_missing: bool = True) -> Path:
    """The selfie-segmentation model file, fetching it on first use.

    Looks, in order, at ``path`` (when given), ``$TOONKIT_WEIGHTS_DIR/selfie_segmentation.tflite``, the
    cache, and finally downloads :data:`URL` into the cache.

    Args:
        path: an explicit file; used as is (no checksum: it may be a model of your own).
        download_missing: when False, a missing file is an error instead of a download.

    Raises:
        ModelUnavailableError: with one line saying where to put the file.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ModelUnavailableError(f"selfie segmentation model {p} does not exist")
        return p
    weights = os.environ.get("TOONKIT_WEIGHTS_DIR")
    if weights and (Path(weights).expanduser() / FILENAME).is_file():
        return Path(weights).expanduser() / FILENAME
    cached = cache_dir() / "mediapipe" / FILENAME
    if cached.is_file():
        if sha256_of(cached) == SHA256:
            return cached
        cached.unlink()  # a truncated or foreign file: fetch it again rather than run a wrong model
    if not download_missing:
        raise ModelUnavailableError(
            f"{FILENAME} not found in $TOONKIT_WEIGHTS_DIR or {cached.parent}, and downloading is off")
    return download(URL, cached)
