"""Training methods (registered kind ``method``): Selfie-GAN and the baselines it is compared with."""
from __future__ import annotations

from toonkit.methods.base import Method, Phase, Slot, StepContext
from toonkit.registry import Registry

__all__ = ["Method", "Phase", "Slot", "StepContext", "register"]


def register(registry: Registry) -> None:
    from toonkit.methods.cartoongan import CartoonGAN
    from toonkit.methods.cyclegan import CycleGAN
    from toonkit.methods.nst import NeuralStyleTransfer
    from toonkit.methods.pix2pix import Pix2PixOutline
    from toonkit.methods.selfie_gan import SelfieGAN

    registry.add("method", "selfie_gan", SelfieGAN)
    registry.add("method", "cartoongan", CartoonGAN)
    registry.add("method", "cyclegan", CycleGAN)
    registry.add("method", "pix2pix", Pix2PixOutline)
    registry.add("method", "nst", NeuralStyleTransfer)
