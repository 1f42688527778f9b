"""Loading pretrained weights without surprises: local files first, then the usual download, one-line errors.

Pretrained feature extractors (VGG for the content loss, AlexNet/VGG for LPIPS) look for
``<arch>_imagenet_features.safetensors`` in the directory named by the environment variable
``TOONKIT_WEIGHTS_DIR`` (keys of ``torchvision.models.<arch>().features``); without it they use
torchvision's weights API, which downloads into torch hub's cache. Offline and without either file,
:class:`WeightsUnavailableError` says in one line which file to put where.

Example:
    >>> import os
    >>> os.environ["TOONKIT_WEIGHTS_DIR"] = "/data/weights"  # doctest: +SKIP
    >>> state = imagenet_features_state_dict("vgg16")  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import torch
from toonkit.core.settings import setting_folder
from toonkit.errors import ToonkitError, describe_error

WEIGHTS_ENV = "TOONKIT_WEIGHTS_DIR"

StateDict = dict[str, torch.Tensor]


class WeightsUnavailableError(ToonkitError, RuntimeError):
    """Pretrained weights are neither on disk nor downloadable; the message says what file to provide."""


def weights_dir() -> Path | None:
    """The directory named by ``TOONKIT_WEIGHTS_DIR``, or None when the variable is unset or empty.

    Raises:
        toonkit.core.settings.SettingError: the variable names no folder (a typo would otherwise send
            toonkit to the network for weights it was told to find on disk).
    """
    return setting_folder(WEIGHTS_ENV)


def find_weights_file(filename: str) -> Path | None:
    """``TOONKIT_WEIGHTS_DIR/filename`` if that file exists, else None."""
    root = weights_dir()
    if root is None:
        return None
    path = root / filename
    return path if path.is_file() else None


def load_state_file(path: str | Path) -> StateDict:
    """Read a state dict from a ``.safetensors`` file or a torch file (loaded with ``weights_only=True``).

    A torch checkpoint that wraps its weights (``{"state_dict": ...}`` or ``{"model": ...}``) is unwrapped.

    Args:
        path: the file.

    Returns:
        name → tensor, on CPU.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    obj = torch.load(str(path), map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path} does not hold a state dict (name → tensor)")
    return dict(obj)


def strip_prefix(state: StateDict, prefix: str) -> StateDict:
    """Drop ``prefix`` from keys that have it; keep the state dict unchanged when no key has it."""
    if not any(k.startswith(prefix) for k in state):
        return state
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def is_download_error(exc: BaseException) -> bool:
    """Whether ``exc`` looks like a failed download (no network, DNS, HTTP, hub cache miss)."""
    if isinstance(exc, OSError):  # URLError, socket errors, ConnectionError, huggingface_hub errors
        return True
    module = type(exc).__module__.split(".")[0]
    return module in {"urllib3", "requests", "httpx", "httpx2", "huggingface_hub"}


def imagenet_features_filename(arch: str) -> str:
    """The file name toonkit looks for in ``TOONKIT_WEIGHTS_DIR``: ``<arch>_imagenet_features.safetensors``."""
    return f"{arch}_imagenet_features.safetensors"


def imagenet_features_state_dict(arch: str) -> StateDict:
    """ImageNet weights of ``torchvision.models.<arch>().features`` (e.g. ``vgg16``, ``vgg19``, ``alexnet``).

    Looks for :func:`imagenet_features_filename` in ``TOONKIT_WEIGHTS_DIR`` first; otherwise asks
    torchvision's weights API for ``IMAGENET1K_V1`` (which uses torch hub's cache and downloads on a miss)
    and keeps the ``features.`` part.

    Raises:
        WeightsUnavailableError: neither the local file nor the download is available.
    """
    local = find_weights_file(imagenet_features_filename(arch))
    if local is not None:
        return strip_prefix(load_state_file(local), "features.")
    import torchvision

    weights = torchvision.models.get_model_weights(arch).IMAGENET1K_V1
    try:
        state = weights.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:
        if not is_download_error(exc):
            raise
        root = weights_dir()
        where = f"{WEIGHTS_ENV}={root}" if root is not None else f"a folder named by {WEIGHTS_ENV} (unset)"
        cache = Path(torch.hub.get_dir()) / "checkpoints" / weights.url.rsplit("/", 1)[-1]
        raise WeightsUnavailableError(
            f"ImageNet {arch} weights: no local copy and the download failed ({describe_error(exc, 80)}): place "
            f"{imagenet_features_filename(arch)} (keys of torchvision.models.{arch}().features) in {where}, "
            f"or torchvision's checkpoint at {cache}"
        ) from None
    return strip_prefix(state, "features.")
