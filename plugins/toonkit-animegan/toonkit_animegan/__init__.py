"""toonkit-animegan: AnimeGANv2 as a toonkit plugin (a method toonkit itself does not ship).

Installing the package registers, through the ``toonkit`` entry point: generator and discriminator
``animegan``, losses ``animegan_gray_style``, ``animegan_color`` and ``total_variation``, and the method
``animegan`` (see ``recipes/animegan.yaml`` in the source distribution).
"""
from toonkit_animegan.losses import ColorLoss, GrayStyleLoss, TotalVariationLoss, grayscale, rgb_to_yuv
from toonkit_animegan.method import AnimeGAN
from toonkit_animegan.nets import AnimeGANDiscriminator, AnimeGANGenerator

__version__ = "0.1.0"
__all__ = [
           "AnimeGAN",
           "AnimeGANDiscriminator",
           "AnimeGANGenerator",
           "ColorLoss",
           "GrayStyleLoss",
           "TotalVariationLoss",
           "__version__",
           "grayscale",
           "rgb_to_yuv",
]
