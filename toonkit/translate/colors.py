"""``--colors keep|style``: whether the person keeps the photo's colours or takes the model's.

A style learned from a set of portraits carries that set's colours: pale skin, black hair, a red
background. ``style`` returns the generator's output as it is. ``keep`` gives the person back the photo's
colour statistics: in CIELAB, the output's mean and spread of each channel on the person are matched to
the photo's (a Reinhard-style transfer, weighted by the soft person mask and applied through it, so the
background and the outline blend untouched), while the model's strokes, outlines and flat shading stay.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor


ColorMode = Literal["keep", "style"]
COLORS: tuple[str, ...] = ("keep", "style")
#: the default of ``toonkit translate``, the Python API and the demo (chosen from the bench's skin-tone
#: table, benchmarks/painted.md)
DEFAULT_COLORS: ColorMode = "keep"
#: the spread of a channel is scaled by at most this factor (and at least its inverse): a flat output region
#: must not be stretched into noise
MAX_GAIN = 2.0


def check_colors(colors: str) -> None:
    """Raise ``ValueError`` naming the choices for an unknown ``colors`` mode (as backgrounds do)."""
    if colors not in COLORS:
        from toonkit.registry import did_you_mean

        raise ValueError(f"unknown colors {colors!r}{did_you_mean(str(colors), COLORS)} "
                         f"(options: {', '.join(COLORS)})")


def _weighted_stats(lab: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    total = weight.sum(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    mean = (lab * weight).sum(dim=(2, 3), keepdim=True) / total
    var = ((lab - mean) ** 2 * weight).sum(dim=(2, 3), keepdim=True) / total
    return mean, var.clamp_min(1e-6).sqrt()


@torch.no_grad()
def keep_colors(photo: Tensor, cartoon: Tensor, mask: Tensor | None = None, min_share: float = 0.005) -> Tensor:
    """The cartoon with the photo's CIELAB mean and spread put back on the person.

    Args:
        photo: the photos the cartoons were made from.
        cartoon: the model's outputs, same size as ``photo``.
        mask: soft person masks; ``None`` treats the whole image as the person.
        min_share: images whose mask covers less than this share of the pixels are returned unchanged
            (no person to take statistics from).

    Shape:
        - photo, cartoon: :math:`(N, 3, H, W)` in [-1, 1]; mask :math:`(N, 1, H, W)` in [0, 1].
        - Output: :math:`(N, 3, H, W)` in [-1, 1], float32.

    Example:
        >>> photo = torch.full((1, 3, 8, 8), -0.2)
        >>> pale = torch.full((1, 3, 8, 8), 0.8)
        >>> out = keep_colors(photo, pale, torch.ones(1, 1, 8, 8))
        >>> bool((out - photo).abs().max() < 0.02)
        True
    """
    from kornia.color import lab_to_rgb, rgb_to_lab

    with torch.autocast(device_type=cartoon.device.type, enabled=False):
        x = ((photo.float() + 1) / 2).clamp(0, 1)
        y = ((cartoon.float() + 1) / 2).clamp(0, 1)
        weight = torch.ones_like(y[:, :1]) if mask is None else mask.float().clamp(0, 1).to(y.device)
        lab_x, lab_y = rgb_to_lab(x), rgb_to_lab(y)
        mean_x, std_x = _weighted_stats(lab_x, weight)
        mean_y, std_y = _weighted_stats(lab_y, weight)
        gain = (std_x / std_y).clamp(1 / MAX_GAIN, MAX_GAIN)
        matched = lab_to_rgb((lab_y - mean_y) * gain + mean_x).clamp(0, 1)
        out = weight * matched + (1 - weight) * y
        enough = (weight.mean(dim=(1, 2, 3)) >= min_share).view(-1, 1, 1, 1)
        return torch.where(enough, out, y) * 2 - 1
