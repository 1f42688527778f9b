"""Outline images for the pix2pix baseline: ``|dilate(gray) − erode(gray)|``.

The paper's pix2pix baseline learns cartoon ← outline pairs built from the cartoons themselves, then
translates the outline of a photo. The outline is the morphological gradient of the grayscale image.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from toonkit.imaging import rgb_to_gray

__all__ = ["Outline", "outline"]


def outline(x: Tensor, kernel: int = 3, invert: bool = False) -> Tensor:
    """Morphological gradient of the gray image, as a 3-channel image in [-1, 1].

    Args:
        x: RGB images in [-1, 1].
        kernel: odd side of the square structuring element of the dilation and erosion.
        invert: dark lines on white (sketch-like) instead of bright lines on black.

    Shape:
        - x: (N, 3, H, W)
        - output: (N, 3, H, W)
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"outline expects N×3×H×W RGB images, got shape {tuple(x.shape)}")
    gray = rgb_to_gray(x)
    pad = kernel // 2
    # max_pool2d pads with -inf, which matches OpenCV's default morphology border (it never wins).
    dilated = F.max_pool2d(gray, kernel, stride=1, padding=pad)
    eroded = -F.max_pool2d(-gray, kernel, stride=1, padding=pad)
    grad = (dilated - eroded).abs()  # in [0, 2] for inputs in [-1, 1]
    out = grad - 1.0
    if invert:
        out = -out
    return out.expand(-1, 3, -1, -1).contiguous()


class Outline(nn.Module):
    """Outline of an image, ``|dilate(gray) − erode(gray)|``: the input of the paper's pix2pix baseline.

    Differentiable (sub-gradients through the max/min).

    Args:
        kernel: odd side of the square dilation/erosion kernel.
        invert: draw dark lines on white instead of bright lines on black.

    Shape:
        - Input: (N, 3, H, W) in [-1, 1]
        - Output: (N, 3, H, W) in [-1, 1]; -1 (black) where the image is flat

    Example:
        >>> x = torch.full((1, 3, 8, 8), -1.0); x[..., 4:] = 1.0
        >>> Outline()(x)[0, 0, 0].tolist()
        [-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
    """

    def __init__(self, kernel: int = 3, invert: bool = False) -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"outline kernel must be odd and positive, got {kernel}")
        self.kernel = kernel
        self.invert = invert

    def forward(self, x: Tensor) -> Tensor:
        return outline(x, self.kernel, self.invert)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, invert={self.invert}"
