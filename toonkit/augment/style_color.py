"""Colour jitter for style images, so a discriminator cannot learn the style set's skin tone as "style".

A style set of pale faces teaches a GAN's discriminator that pale skin is part of the style, and the
generator whitens every face to please it (the hand-painted set paints near-white faces). Shown the
style images at random lightness, saturation and hue, the discriminator has to judge what stays:
outlines, flat shading, brush texture.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from toonkit.imaging import from_unit, to_unit

__all__ = ["StyleColorJitter"]


class StyleColorJitter(nn.Module):
    """Random gamma, saturation and hue per image, the same for every tensor of one call.

    ``jitter(cartoon, smooth)`` gives a cartoon and its edge-smoothed twin the same colour change, so
    the only difference D can use between them stays the edges. Gamma is drawn log-uniformly from
    ``[1 / max_gamma, max_gamma]`` with probability ``p_dark`` of being above 1 (darker midtones, whites and
    blacks kept): it lets a pale-skinned style set show tan, brown and dark skin.

    Args:
        max_gamma: largest gamma (and 1 / smallest); 1 disables the lightness change.
        p_dark: probability that an image's gamma darkens it (above 1) rather than lightens it.
        saturation: saturation factors are drawn uniformly from ``[1 − saturation, 1 + saturation]``.
        hue: largest hue shift in turns (0.5 = half the colour wheel).
        p: probability that an image is jittered at all.

    Shape:
        - Inputs: any number of :math:`(N, 3, H, W)` tensors in [-1, 1] with one ``N``.
        - Outputs: a tensor per input (a tensor for one input), same shapes.

    Example:
        >>> jitter = StyleColorJitter(max_gamma=2.0)
        >>> a, b = jitter(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8))
        >>> torch.equal(a, b)
        True
    """

    def __init__(self, max_gamma: float = 2.5, p_dark: float = 0.75, saturation: float = 0.3,
                 hue: float = 0.03, p: float = 0.8) -> None:
        super().__init__()
        if max_gamma < 1 or not 0 <= p_dark <= 1 or not 0 <= saturation < 1 or not 0 <= hue <= 0.5 \
                or not 0 <= p <= 1:
            raise ValueError("StyleColorJitter: need max_gamma >= 1, 0 <= p_dark <= 1, 0 <= saturation < 1, "
                             "0 <= hue <= 0.5, 0 <= p <= 1")
        self.max_gamma, self.p_dark, self.saturation, self.hue, self.p = max_gamma, p_dark, saturation, hue, p

    def draw(self, n: int, device: torch.device) -> dict[str, Tensor]:
        """Per-image factors (identity where an image is not jittered)."""
        on = torch.rand(n, device=device) < self.p
        log_gamma = torch.rand(n, device=device) * math.log(self.max_gamma)
        dark = torch.rand(n, device=device) < self.p_dark
        gamma = torch.exp(torch.where(dark, log_gamma, -log_gamma))
        sat = 1 + (torch.rand(n, device=device) * 2 - 1) * self.saturation
        hue = (torch.rand(n, device=device) * 2 - 1) * self.hue * 2 * math.pi  # kornia's hue is in radians
        one, zero = torch.ones_like(gamma), torch.zeros_like(gamma)
        return {"gamma": torch.where(on, gamma, one), "saturation": torch.where(on, sat, one),
                "hue": torch.where(on, hue, zero)}

    def recolour(self, x: Tensor, factors: dict[str, Tensor]) -> Tensor:
        from kornia.enhance import adjust_gamma, adjust_hue, adjust_saturation

        unit = to_unit(x.float(), clamp=True)
        unit = adjust_gamma(unit, factors["gamma"])
        unit = adjust_saturation(unit, factors["saturation"])
        unit = adjust_hue(unit, factors["hue"])
        return from_unit(unit.clamp(0, 1)).to(x.dtype)

    def forward(self, *images: Tensor) -> Tensor | tuple[Tensor, ...]:
        if not images or any(t.ndim != 4 or t.shape[0] != images[0].shape[0] for t in images):
            raise ValueError("StyleColorJitter takes N×3×H×W tensors with the same N")
        factors = self.draw(images[0].shape[0], images[0].device)
        out = tuple(self.recolour(t, factors) for t in images)
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        return (f"max_gamma={self.max_gamma}, p_dark={self.p_dark}, saturation={self.saturation}, "
                f"hue={self.hue}, p={self.p}")
