"""Neural style transfer (Gatys et al. 2016): an optimisation per image, no training phase."""
from __future__ import annotations

from typing import Optional

import torch

from toonkit.methods.base import Method, Slot

STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT_LAYER = "relu4_2"


class NeuralStyleTransfer(Method):
    """Gatys neural style transfer: optimise the image itself against VGG content and Gram style losses.

    It has no training phase; ``toonkit translate --method nst --style IMG`` runs :meth:`stylize`.

    Args:
        steps: optimisation steps per image.
        content_weight: weight of the content term (``relu4_2``).
        style_weight: weight of the Gram style term (``relu1_1`` … ``relu5_1``).
        tv_weight: total-variation smoothing weight.
        lr: Adam learning rate on the image (in [-1, 1] units).
    """

    nets = {"feature": Slot("feature", "vgg", {"arch": "vgg16", "layers": STYLE_LAYERS + [CONTENT_LAYER]},
                            trainable=False)}
    losses = {"style": Slot("loss", "gram_style"), "content": Slot("loss", "content")}
    phases = ()
    trainable = False
    generator_slot = "feature"

    def __init__(self, steps: int = 300, content_weight: float = 1.0, style_weight: float = 1e4,
                 tv_weight: float = 1e-4, lr: float = 0.02) -> None:
        super().__init__()
        self.steps, self.content_weight, self.style_weight = steps, content_weight, style_weight
        self.tv_weight, self.lr = tv_weight, lr

    def stylize(self, content: torch.Tensor, style: torch.Tensor, steps: Optional[int] = None) -> torch.Tensor:
        """Return ``content`` (N×3×H×W in [-1, 1]) repainted in the style of ``style`` (1×3×h×w).

        Example:
            >>> nst = toonkit.build("method", "nst", steps=50)  # doctest: +SKIP
        """
        feature = self.net["feature"]
        style_layers = [name for name in feature.layer_names if name != CONTENT_LAYER] or feature.layer_names
        content_layer = CONTENT_LAYER if CONTENT_LAYER in feature.layer_names else feature.layer_names[-1]
        with torch.no_grad():
            target_content = feature(content)[content_layer]
            target_style = feature(style)
            target_style = [target_style[k].expand(content.shape[0], -1, -1, -1) for k in style_layers]
        image = content.detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([image], lr=self.lr)
        for _ in range(steps if steps is not None else self.steps):
            opt.zero_grad(set_to_none=True)
            feats = feature(image)
            c = self.loss["content"](feats[content_layer], target_content)
            s = self.loss["style"]([feats[k] for k in style_layers], target_style)
            tv = (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (
                image[..., 1:] - image[..., :-1]).abs().mean()
            (self.content_weight * c + self.style_weight * s + self.tv_weight * tv).backward()
            opt.step()
            with torch.no_grad():
                image.clamp_(-1, 1)
        return image.detach()
