"""Neural style transfer (Gatys et al. 2016): an optimisation per image, no training phase."""
from __future__ import annotations

from typing import Any

from typing import Callable, Literal, Optional

import torch

from toonkit.methods.base import Method, Roles, Slot

STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
# The short side photos are optimised at when no size is asked for (``toonkit translate --method nst``):
# the cost grows with the pixel count (see the class docstring).
DEFAULT_SIZE = 256
CONTENT_LAYER = "relu4_2"


class NeuralStyleTransfer(Method):
    """Gatys neural style transfer: optimise the image itself against VGG content and Gram style losses.

    It has no training phase; ``toonkit translate --method nst --style IMG`` runs :meth:`stylize`. The
    defaults below are the only ones: the CLI options, ``recipes/nst.yaml`` and the bench all take them
    from this signature. The style term's weight is large (1e6, as in PyTorch's style-transfer tutorial,
    whose Grams are normalised the same way) because Gram matrices normalised by C·H·W differ by tiny
    squared amounts next to the content term's L1; with the former 1e4 the output stayed mostly the photo. The cost is ``steps`` forward and
    backward passes of VGG16 at the working size (short side :data:`DEFAULT_SIZE` by default): see
    README.md for what one image costs on a CPU.

    Args:
        steps: optimisation steps per image.
        content_weight: weight of the content term (``relu4_2``).
        style_weight: weight of the Gram style term (``relu1_1`` … ``relu5_1``).
        tv_weight: total-variation smoothing weight.
        lr: Adam learning rate on the image (in [-1, 1] units).
        init: start the optimisation from the ``photo`` or from seeded uniform ``noise``.
    """

    nets = {"feature": Slot("feature", "vgg", {"arch": "vgg16", "layers": STYLE_LAYERS + [CONTENT_LAYER]},
                            trainable=False)}
    losses = {"style": Slot("loss", "gram_style"), "content": Slot("loss", "content")}
    phases = ()
    trainable = False
    roles = Roles(generator="feature")  # what StyleTransfer optimises through

    def __init__(self, steps: int = 200, content_weight: float = 1.0, style_weight: float = 1e6,
                 tv_weight: float = 1e-4, lr: float = 0.04, init: Literal["photo", "noise"] = "photo") -> None:
        super().__init__()
        if init not in ("photo", "noise"):
            raise ValueError(f"nst init must be 'photo' or 'noise', got {init!r}")
        self.steps, self.content_weight, self.style_weight = steps, content_weight, style_weight
        self.tv_weight, self.lr, self.init = tv_weight, lr, init

    def stylize(self, content: torch.Tensor, style: torch.Tensor, steps: Optional[int] = None,
                callback: Optional[Callable[[int, dict[str, float]], None]] = None) -> torch.Tensor:
        """Return ``content`` (N×3×H×W in [-1, 1]) repainted in the style of ``style`` (1×3×h×w).

        Args:
            content: the photos.
            style: the style image.
            steps: optimisation steps (default :attr:`steps`).
            callback: called after every step with the step number (from 1) and the weighted losses
                (``content``, ``style``, ``tv``), e.g. to drive a progress bar.

        Example:
            >>> nst = toonkit.build("method", "nst", steps=50)  # doctest: +SKIP
        """
        feature: Any = self.net["feature"]  # a VGGFeatures: layer_names, and a dict of maps per call
        style_layers = [name for name in feature.layer_names if name != CONTENT_LAYER] or feature.layer_names
        content_layer = CONTENT_LAYER if CONTENT_LAYER in feature.layer_names else feature.layer_names[-1]
        with torch.no_grad():
            target_content = feature(content)[content_layer]
            target_style = feature(style)
            target_style = [target_style[k].expand(content.shape[0], -1, -1, -1) for k in style_layers]
        if self.init == "noise":  # seeded, so a translation is reproducible
            gen = torch.Generator().manual_seed(0)
            start = torch.rand(content.shape, generator=gen).to(content) * 2 - 1
        else:
            start = content.detach()
        image = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([image], lr=self.lr)
        for step in range(steps if steps is not None else self.steps):
            opt.zero_grad(set_to_none=True)
            feats = feature(image)
            c = self.loss["content"](feats[content_layer], target_content)
            s = self.loss["style"]([feats[k] for k in style_layers], target_style)
            tv = (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (
                image[..., 1:] - image[..., :-1]).abs().mean()
            parts = {"content": self.content_weight * c, "style": self.style_weight * s, "tv": self.tv_weight * tv}
            sum(parts.values()).backward()
            opt.step()
            with torch.no_grad():
                image.clamp_(-1, 1)
            if callback is not None:
                callback(step + 1, {k: float(v.detach()) for k, v in parts.items()})
        return image.detach()


def register(registry: Any) -> None:
    registry.add("method", "nst", NeuralStyleTransfer)
