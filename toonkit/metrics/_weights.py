"""Pretrained weights for the metrics, through the toolkit's one weights loader.

:func:`toonkit.weights.imagenet_features_state_dict` reads ``$TOONKIT_WEIGHTS_DIR`` first and otherwise
torchvision's weights API (hub cache, then download); here its one-line error is prefixed with the metric
that needed the weights, so a benchmark log says which column could not be computed.
"""
from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Literal

from torch import Tensor

from toonkit.weights import WeightsUnavailableError, imagenet_features_state_dict, weights_dir

Arch = Literal["vgg16", "alexnet"]

# A download that cannot connect should fail in seconds, not wait on the OS's TCP timeout.
DOWNLOAD_CONNECT_TIMEOUT_S = 15.0

__all__ = ["WeightsUnavailableError", "imagenet_features_state", "short_socket_timeout", "weights_dir"]


@contextlib.contextmanager
def short_socket_timeout(seconds: float = DOWNLOAD_CONNECT_TIMEOUT_S) -> Iterator[None]:
    """Bound the blocking socket operations of downloads started inside (urllib sets no timeout)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def imagenet_features_state(arch: Arch, purpose: str) -> dict[str, Tensor]:
    """State dict of torchvision's ImageNet ``<arch>().features`` (keys like ``'0.weight'``).

    Args:
        arch: ``'vgg16'`` or ``'alexnet'``.
        purpose: what needs the weights, put in front of the error message.

    Raises:
        WeightsUnavailableError: one line saying which file to provide.
    """
    try:
        with short_socket_timeout():
            return imagenet_features_state_dict(arch)
    except WeightsUnavailableError as exc:
        raise WeightsUnavailableError(f"{purpose}: {exc}") from None
