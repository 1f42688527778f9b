"""The module the ``toonkit`` entry point names: registers AnimeGANv2's components and method."""
from __future__ import annotations

from toonkit.plugins import PluginRegistry, hookimpl


@hookimpl
def toonkit_register(registry: PluginRegistry) -> None:
    from toonkit_animegan.losses import ColorLoss, GrayStyleLoss, TotalVariationLoss
    from toonkit_animegan.method import AnimeGAN
    from toonkit_animegan.nets import AnimeGANDiscriminator, AnimeGANGenerator

    registry.add("generator", "animegan", AnimeGANGenerator)
    registry.add("discriminator", "animegan", AnimeGANDiscriminator)
    registry.add("loss", "animegan_gray_style", GrayStyleLoss)
    registry.add("loss", "animegan_color", ColorLoss)
    registry.add("loss", "total_variation", TotalVariationLoss)
    registry.add("method", "animegan", AnimeGAN)
