"""Augmenters: batch transforms on N×3×H×W images in [-1, 1], on the device of their input.

Registered: ``edge_smooth`` (CartoonGAN's edge-smoothed negatives, OpenCV-faithful) and ``outline``
(pix2pix input) and ``style_jitter`` (colour jitter of style images, so D cannot take their skin
tone for the style) and ``diff_augment`` (differentiable shifts and cutouts of everything D sees, for
training on a few style images), the components methods' ``augment`` slots take. Random crops and flips
are the data loaders' (one window shared by a photo and its mask), not an augmenter's.
"""
from __future__ import annotations

from toonkit.augment.diff_augment import DiffAugment
from toonkit.augment.edge_smooth import EdgeSmooth, canny
from toonkit.augment.outline import Outline
from toonkit.augment.style_color import StyleColorJitter
from toonkit.registry import Registry

# The functional forms live in their modules (toonkit.augment.edge_smooth.edge_smooth,
# toonkit.augment.outline.outline); re-exporting them here would shadow the module names.
__all__ = ["DiffAugment", "EdgeSmooth", "Outline", "StyleColorJitter", "canny", "register"]


def register(registry: Registry) -> None:
    """Add the built-in augmenters to ``registry``."""
    registry.add("augmenter", "diff_augment", DiffAugment)
    registry.add("augmenter", "edge_smooth", EdgeSmooth)
    registry.add("augmenter", "outline", Outline)
    registry.add("augmenter", "style_jitter", StyleColorJitter)
