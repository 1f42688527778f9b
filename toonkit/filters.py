"""Non-learned image filters (registered kind ``"filter"``): the zero points a trained model is judged against.

A style distance means little on its own: "KID 0.05" is good or bad only next to what doing nothing
scores (``photo``) and what a classic filter that learns nothing scores (``stylization``). The bench runs
filters as methods beside the trained ones (a suite's ``methods: {photo: {filter: photo}}``).

A filter is a module ``filter(photos) -> images``, NCHW in [-1, 1], same size, no parameters to train.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from toonkit.errors import ToonkitError
from toonkit.imaging import from_uint8, to_uint8
from toonkit.registry import Registry

__all__ = ["FilterError", "PhotoFilter", "Stylization", "register"]


class FilterError(ToonkitError):
    """A filter cannot run here (a missing optional package)."""


class PhotoFilter(nn.Module):
    """The photo itself: returns its input unchanged, the zero point of every quality measure.

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1]; output: the same tensor.

    Example:
        >>> x = torch.rand(1, 3, 8, 8) * 2 - 1
        >>> PhotoFilter()(x) is x
        True
    """

    def __init__(self) -> None:  # explicit, so the registry sees "no parameters"
        super().__init__()

    def forward(self, photos: Tensor) -> Tensor:
        return photos


class Stylization(nn.Module):
    """OpenCV's edge-preserving stylization (Gastal and Oliveira's domain transform, ``cv2.stylization``).

    A classic "cartoon filter" that learns nothing: it flattens colour regions while keeping strong edges.
    Each image goes through OpenCV on the CPU as 8-bit RGB.

    Args:
        sigma_s: spatial extent of the smoothing, 0–200 (OpenCV's default 60).
        sigma_r: how different colours may be and still be averaged, 0–1 (OpenCV's default 0.45).

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1]; output the same shape, on the input's device.

    Example:
        >>> Stylization()(torch.zeros(1, 3, 16, 16)).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(self, sigma_s: float = 60.0, sigma_r: float = 0.45) -> None:
        super().__init__()
        if not 0 < sigma_s <= 200 or not 0 < sigma_r <= 1:
            raise ValueError("stylization: sigma_s must be in (0, 200] and sigma_r in (0, 1]")
        self.sigma_s, self.sigma_r = sigma_s, sigma_r

    def forward(self, photos: Tensor) -> Tensor:
        try:
            import cv2
        except ImportError as exc:
            raise FilterError("the 'stylization' filter needs OpenCV: pip install opencv-python-headless") \
                from exc
        out = []
        for image in to_uint8(photos.detach().float()).cpu():
            rgb = image.permute(1, 2, 0).contiguous().numpy()
            styled = cv2.stylization(rgb[..., ::-1].copy(), sigma_s=self.sigma_s, sigma_r=self.sigma_r)
            out.append(torch.from_numpy(styled[..., ::-1].copy()).permute(2, 0, 1))
        return from_uint8(torch.stack(out)).to(photos.device)

    def extra_repr(self) -> str:
        return f"sigma_s={self.sigma_s}, sigma_r={self.sigma_r}"


def register(registry: Registry) -> None:
    """Add the built-in filters to ``registry`` under kind ``"filter"``."""
    registry.add("filter", "photo", PhotoFilter)
    registry.add("filter", "stylization", Stylization)
