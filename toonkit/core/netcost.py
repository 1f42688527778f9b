"""What a network costs, checked before it is allocated: its weights are counted on a copy built on
PyTorch's ``meta`` device (shapes, no memory), and its largest activation per input pixel is traced on a
tiny input before any image of real size reaches it.

A recipe or ``config.json`` within the per-value bounds can still describe a network that needs more
memory than any machine has (``base_channels: 4096``, or 256 residual blocks of 512 channels):
:func:`check_network` refuses it with one line before a byte of its weights is allocated, and
:func:`check_activations` refuses one whose activations for a :data:`PROBE_SIDE`² image would exceed
:data:`MAX_ACTIVATION_BYTES`. The bounds are far above every built-in network at its defaults
(CartoonGAN's generator: 11 M weights, 64 MiB for its largest activation at 512²).

Settings (environment):
    TOONKIT_MAX_PARAMETERS: the most weights one network may have (default 200 000 000, 800 MB in fp32).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from toonkit.core.settings import setting_int
from toonkit.errors import ToonkitError

__all__ = ["MAX_ACTIVATION_BYTES", "PROBE_SIDE", "NetworkTooLargeError", "activation_bytes", "check_activations",
           "check_network", "count_parameters", "no_init"]

log = logging.getLogger("toonkit.core")

#: the reference image side for the activation bound: the default working size of a 256² model
PROBE_SIDE = 512
#: the largest single activation allowed for one PROBE_SIDE² image in fp32 (1 GiB: 1024 channels at full
#: resolution; CartoonGAN's generator at its defaults needs 64 MiB)
MAX_ACTIVATION_BYTES = 1 << 30
#: the side the activations are traced at (real tensors, a few kB), scaled to PROBE_SIDE by pixel count
_TRACE_SIDE = 32


class NetworkTooLargeError(ToonkitError):
    """A network whose weights or activations exceed the bounds; refused before they are allocated."""


class no_init(TorchFunctionMode):  # noqa: N801 - used as a context manager, like torch.no_grad
    """Weight initialisers (every in-place op) do nothing on meta tensors: their values do not exist, and
    PyTorch's meta versions of ``normal_`` and friends import its compiler, seconds of start-up."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        target = args[0] if args else kwargs.get("tensor")  # nn.init passes it by keyword
        if name.endswith("_") and not name.endswith("__") and isinstance(target, torch.Tensor) and target.is_meta:
            return target
        return func(*args, **kwargs)


def count_parameters(build: Callable[[], Any]) -> int | None:
    """The number of weights ``build()`` makes, counted on the meta device (nothing allocated); None when
    it cannot be built there (a plugin network that loads a file in its constructor, say)."""
    try:
        with torch.device("meta"), no_init():
            net = build()
    except Exception as exc:  # noqa: BLE001 - the real build reports real errors
        log.debug("cannot build on the meta device: %s", exc)
        return None
    return sum(p.numel() for p in net.parameters()) if isinstance(net, nn.Module) else None


def check_network(build: Callable[[], Any], what: str) -> int | None:
    """Refuse a network with more than ``TOONKIT_MAX_PARAMETERS`` weights before it is allocated.

    Args:
        build: builds the network (called once on the meta device: nothing is allocated).
        what: how to name it in the message (``generator 'cartoongan'``).

    Returns:
        its number of weights, or None when it could not be counted.

    Raises:
        NetworkTooLargeError: too many weights.

    Example:
        >>> check_network(lambda: nn.Conv2d(3, 8, 3), "a conv")
        224
    """
    count = count_parameters(build)
    limit = setting_int("TOONKIT_MAX_PARAMETERS")
    if count is not None and count > limit:
        raise NetworkTooLargeError(f"{what} has {count:,} parameters, above the bound of {limit:,} "
                                   "(TOONKIT_MAX_PARAMETERS): refused before allocating it")
    return count


def activation_bytes(net: nn.Module) -> int | None:
    """The largest single activation (fp32 bytes) of ``net`` for one PROBE_SIDE² image, from a forward
    pass on a tiny input scaled by pixel count; None when it cannot be traced (a network that is not an
    image network, or needs sides that are large multiples).

    The pass runs in eval mode without gradients and with the random state restored, so batch-norm
    statistics, dropout and the seed are untouched.
    """
    multiple = int(getattr(net, "size_multiple", 1) or 1)
    if multiple > 256 or any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in net.modules()):
        return None
    side = -(-_TRACE_SIDE // multiple) * multiple
    # what the first convolution takes (pix2pix's discriminator sees photo and cartoon: 6 channels)
    conv = next((m for m in net.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        return None
    param = next(net.parameters(), None)
    largest = 0

    def record(module: nn.Module, inputs: object, output: object) -> None:
        nonlocal largest
        for out in output if isinstance(output, (tuple, list)) else [output]:
            if isinstance(out, torch.Tensor):
                largest = max(largest, out.numel())

    hooks = [m.register_forward_hook(record) for m in net.modules()]
    was_training = net.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            net.eval()
            device = param.device if param is not None else "cpu"
            net(torch.zeros(1, conv.in_channels, side, side, device=device))
    except Exception as exc:  # noqa: BLE001 - not an image network, or one with odd input needs
        log.debug("activation size of %s unknown: %s", type(net).__name__, exc)
        return None
    finally:
        net.train(was_training)
        for hook in hooks:
            hook.remove()
    return largest * 4 * (PROBE_SIDE * PROBE_SIDE) // (side * side)


def check_activations(net: nn.Module, what: str) -> int | None:
    """Refuse ``net`` when one activation for a PROBE_SIDE² image would exceed :data:`MAX_ACTIVATION_BYTES`,
    before it sees an image of real size.

    Raises:
        NetworkTooLargeError: activations too large.
    """
    size = activation_bytes(net)
    if size is not None and size > MAX_ACTIVATION_BYTES:
        raise NetworkTooLargeError(f"{what} needs {size / 2**30:.1f} GiB for one activation of a {PROBE_SIDE}×"
                                   f"{PROBE_SIDE} image, above the bound of {MAX_ACTIVATION_BYTES / 2**30:.0f} GiB")
    return size
