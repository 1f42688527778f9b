"""Neural style transfer behind the same interface as a trained run (``toonkit translate --method nst``).

The optimisation itself is the registered ``nst`` method (:class:`toonkit.methods.nst.NeuralStyleTransfer`);
this module builds it from its slot defaults, holds the style image, and plugs it into
:class:`~toonkit.translate.api.Cartoonizer` so sizes, batching, background modes and file handling are
shared with trained runs.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

import toonkit
from toonkit.translate.api import Cartoonizer, TranslateError
from toonkit.weights import describe_error
from toonkit.translate.geometry import resize, short_side_size


def build_nst(vgg_weights: str = "imagenet", **params: Any) -> nn.Module:
    """The registered ``nst`` method with its VGG feature and losses built from the slot defaults.

    Args:
        vgg_weights: the VGG feature's ``weights`` (``imagenet``, a file, or ``random`` for tests).
        **params: the method's parameters (``steps``, ``content_weight``, ``style_weight``,
            ``tv_weight``, ``lr``).
    """
    method_cls = toonkit.registry().get("method", "nst").factory
    method = method_cls(**params)
    built: dict[str, dict[str, nn.Module]] = {}
    for section in ("nets", "losses", "augment"):
        built[section] = {}
        for slot_name, slot in method_cls.slots(section).items():
            if slot.default is None:
                continue
            kwargs = dict(slot.params)
            if section == "nets" and slot.kind == "feature":
                kwargs["weights"] = vgg_weights
            built[section][slot_name] = toonkit.build(slot.kind, slot.default, **kwargs)
    return method.bind(built["nets"], built["losses"], built["augment"]).eval()


class StyleTransfer(Cartoonizer):
    """Gatys neural style transfer of photos towards one style image, as a :class:`Cartoonizer`.

    Each batch is optimised from the photo itself (``steps`` Adam steps on the pixels against VGG
    content and Gram style losses), so it is much slower than a trained generator; ``size`` (the short
    side, default 256) bounds the cost.

    Args:
        style: the style image, ``(1, 3, h, w)`` or ``(3, h, w)`` in [-1, 1] (see
            :func:`toonkit.translate.io.to_tensor` for other kinds).
        masker: optional person masker for background modes.
        size: default short side to work at.
        style_size: short side the style image is resized to (default: ``size``).
        device: see :class:`Cartoonizer`.
        amp: autocast for the VGG passes (``off`` recommended: the optimisation is sensitive).
        vgg_weights: VGG weights, see :func:`build_nst`.
        **params: the ``nst`` method's parameters (``steps``, ``content_weight`` …).
    """

    cast_generator = False  # the VGG passes run under autocast over fp32 weights, as before

    def __init__(self, style: Any, masker: nn.Module | None = None, *, size: int = 256,
                 style_size: int | None = None, device: str | torch.device = "auto", amp: str = "off",
                 vgg_weights: str = "imagenet", **params: Any) -> None:
        from toonkit.translate import io

        try:
            method = build_nst(vgg_weights, **params)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise TranslateError(f"neural style transfer: {describe_error(exc, limit=None)}") from None
        self.method = method
        # contiguous: channels-last was measured for the generators' forward passes, not for this optimisation
        # the optimisation runs at ``size`` (its cost grows with the pixel count), outputs are upsampled
        super().__init__(method.net["feature"], masker, size=size, device=device, amp=amp, channels_last=False,
                         work_size=size)
        self.method.to(self.device)
        image = style if isinstance(style, torch.Tensor) and style.dim() == 4 else io.to_tensor(style).image
        hw = short_side_size(*image.shape[-2:], style_size or size)
        self.style = resize(image.float().to(self.device), hw)
        self.source = f"neural style transfer ({self.method.steps} steps)"

    def generate(self, photo: torch.Tensor) -> torch.Tensor:
        """Optimise ``photo`` towards the style image (gradients on, whatever the caller's mode).

        Shape:
            - Input: :math:`(N, 3, H, W)` in [-1, 1]
            - Output: :math:`(N, 3, H, W)` in [-1, 1]
        """
        x = self._prepare(photo)
        with torch.enable_grad(), self._autocast():
            out = self.method.stylize(x, self.style)
        return out.float().clamp(-1, 1)
