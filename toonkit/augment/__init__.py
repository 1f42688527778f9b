"""Augmenters: batch transforms on N×3×H×W images in [-1, 1], on the device of their input.

``edge_smooth`` (CartoonGAN's edge-smoothed negatives, OpenCV-faithful), ``outline`` (pix2pix input),
``geometric`` (resize, crop, flip; masks follow) and ``color_jitter``.
"""
from __future__ import annotations

from toonkit.augment.edge_smooth import EdgeSmooth, canny
from toonkit.augment.geometric import ColorJitter, Geometric
from toonkit.augment.outline import Outline
from toonkit.registry import Registry

# The functional forms live in their modules (toonkit.augment.edge_smooth.edge_smooth,
# toonkit.augment.outline.outline); re-exporting them here would shadow the module names.
__all__ = ["ColorJitter", "EdgeSmooth", "Geometric", "Outline", "canny", "register"]


def register(registry: Registry) -> None:
    """Add the built-in augmenters to ``registry``."""
    registry.add("augmenter", "edge_smooth", EdgeSmooth)
    registry.add("augmenter", "outline", Outline)
    registry.add("augmenter", "geometric", Geometric)
    registry.add("augmenter", "color_jitter", ColorJitter)
