"""Neural style transfer behind the same interface as a trained run (``toonkit translate --method nst``).

The optimisation itself is the registered ``nst`` method (:class:`toonkit.methods.nst.NeuralStyleTransfer`);
this module builds it from its slot defaults, holds the style image, and plugs it into
:class:`~toonkit.translate.api.Cartoonizer` so sizes, batching, background modes and file handling are
shared with trained runs.
"""
from __future__ import annotations

import sys
from typing import Any

import torch
from torch import nn

from toonkit.methods.nst import DEFAULT_SIZE, NeuralStyleTransfer
from toonkit.errors import describe_error
from toonkit.translate.api import MAX_PIXELS, Cartoonizer
from toonkit.translate.errors import TranslateError
from toonkit.core.geometry import resize, short_side_size


def build_nst(vgg_weights: str = "imagenet", feature: dict[str, Any] | None = None, **params: Any) -> NeuralStyleTransfer:
    """The registered ``nst`` method with its VGG feature and losses, resolved and built as a recipe
    ``{method: {type: nst, **params}, nets: {feature: ...}}`` would be.

    Args:
        vgg_weights: the VGG feature's ``weights`` (``imagenet``, a file, or ``random`` for tests).
        feature: other parameters of the VGG feature block (``arch``, ``layers`` ...).
        **params: the method's parameters (``steps``, ``content_weight``, ``style_weight``,
            ``tv_weight``, ``lr``).

    Raises:
        RecipeError: a parameter is invalid (its key path named).
    """
    from toonkit.methods.assemble import assemble, default_recipe

    recipe = default_recipe("nst", {"nets.feature": {**(feature or {}), "weights": vgg_weights}}, **params)
    return _as_nst(assemble(recipe).eval())


def _as_nst(method: Any) -> NeuralStyleTransfer:
    if not isinstance(method, NeuralStyleTransfer):
        raise TranslateError(f"neural style transfer needs the nst method, got {type(method).__name__}")
    return method


class StyleTransfer(Cartoonizer):
    """Gatys neural style transfer of photos towards one style image, as a :class:`Cartoonizer`.

    Each batch is optimised from the photo itself (``steps`` Adam steps on the pixels against VGG
    content and Gram style losses), so it is much slower than a trained generator; ``size`` (the short
    side the optimisation runs at, :data:`toonkit.methods.nst.DEFAULT_SIZE`) bounds the cost, and the
    result is upsampled to the output size like a generator's.

    Args:
        style: the style image, ``(1, 3, h, w)`` or ``(3, h, w)`` in [-1, 1] (see
            :func:`toonkit.translate.io.to_tensor` for other kinds).
        masker: optional person masker for background modes.
        size: default short side to work at.
        style_size: short side the style image is resized to (default: ``size``).
        device, max_pixels: see :class:`Cartoonizer`.
        amp: autocast for the VGG passes (``off`` recommended: the optimisation is sensitive).
        vgg_weights: VGG weights, see :func:`build_nst`.
        progress: show a per-step progress bar (tqdm, on stderr) while a batch is optimised.
        method: an ``nst`` method already built (:meth:`from_recipe`); ``vgg_weights`` and ``params``
            are then unused.
        **params: the ``nst`` method's parameters (``steps``, ``content_weight`` …); the method's
            defaults for those not given.
    """

    cast_generator = False  # the VGG passes run under autocast over fp32 weights, as before

    def __init__(self, style: Any, masker: nn.Module | None = None, *, size: int = DEFAULT_SIZE,
                 style_size: int | None = None, device: str | torch.device = "auto", amp: str = "off",
                 vgg_weights: str = "imagenet", progress: bool = False, method: NeuralStyleTransfer | None = None,
                 max_pixels: int = MAX_PIXELS, **params: Any) -> None:
        from toonkit.translate import io

        try:
            method = method if method is not None else build_nst(vgg_weights, **params)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise TranslateError(f"neural style transfer: {describe_error(exc, limit=None)}") from None
        self.method = method
        self.progress = progress
        # contiguous: channels-last was measured for the generators' forward passes, not for this optimisation
        # the optimisation runs at ``size`` (its cost grows with the pixel count), outputs are upsampled
        super().__init__(method.net[method.roles.generator], masker, size=size, device=device, amp=amp,
                         channels_last=False, work_size=size, max_pixels=max_pixels,
                         source=f"neural style transfer ({method.steps} steps)")
        self.method.to(self.device)
        image = style if isinstance(style, torch.Tensor) and style.dim() == 4 else io.to_tensor(style).image
        height, width = image.shape[-2:]
        hw = short_side_size(height, width, style_size or size)
        self.style = resize(image.float().to(self.device), hw)

    @classmethod
    def from_recipe(cls, recipe: Any, style: Any, masker: nn.Module | None = None, **kwargs: Any) -> "StyleTransfer":
        """Style transfer with the ``nst`` method exactly as a resolved recipe describes it (every block,
        e.g. ``nets.feature.arch``), built by :func:`toonkit.methods.assemble.assemble`.

        Args:
            recipe: a resolved recipe whose method is ``nst``.
            style, masker, **kwargs: see :class:`StyleTransfer` (``size``, ``device`` ...).
        """
        from toonkit.methods.assemble import assemble

        return cls(style, masker, method=_as_nst(assemble(recipe).eval()), **kwargs)

    def generate(self, photo: torch.Tensor) -> torch.Tensor:
        """Optimise ``photo`` towards the style image (gradients on, whatever the caller's mode).

        Shape:
            - Input: :math:`(N, 3, H, W)` in [-1, 1]
            - Output: :math:`(N, 3, H, W)` in [-1, 1]
        """
        from tqdm import tqdm

        x = self._prepare(photo)
        # one bar per batch, one tick per optimisation step: the per-image bar alone sat at 0/1 for minutes
        with tqdm(total=self.method.steps, desc=f"style transfer {x.shape[-1]}×{x.shape[-2]}", unit="step",
                  disable=not self.progress, leave=False, file=sys.stderr, dynamic_ncols=True,
                  mininterval=0, miniters=1) as bar:  # a step takes a second or more: show each

            def tick(step: int, losses: dict[str, float]) -> None:
                bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
                bar.update(1)

            with torch.enable_grad(), self._autocast():
                out = self.method.stylize(x, self.style, callback=tick)
        return out.float().clamp(-1, 1)
