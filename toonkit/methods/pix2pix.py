"""pix2pix on outlines: the paper's paired baseline (outline of a cartoon → that cartoon)."""
from __future__ import annotations

from typing import Any

import torch

from toonkit.methods.base import Method, Phase, Slot, StepContext, frozen


class Pix2PixOutline(Method):
    """pix2pix (Isola et al. 2017) trained on pairs ``(|dilate − erode|(cartoon), cartoon)``.

    At translation time a photo's outline is fed to the generator, as in the paper's baseline.

    Args:
        w_pixel: weight of the L1 term (pix2pix: 100).
    """

    nets = {
        "generator": Slot("generator", "unet"),
        "discriminator": Slot("discriminator", "patchgan", {"in_channels": 6}),
    }
    losses = {"adversarial": Slot("loss", "adversarial", {"mode": "bce"}), "pixel": Slot("loss", "pixel")}
    augment = {"outline": Slot("augmenter", "outline")}
    phases = (Phase("adversarial", ("discriminator", "generator"), "cartoons", epochs=200,
                    summary="conditional GAN on (outline, cartoon) pairs"),)

    def __init__(self, w_pixel: float = 100.0) -> None:
        super().__init__()
        self.w_pixel = w_pixel

    @staticmethod
    def prepare_input(photo: torch.Tensor) -> torch.Tensor:
        from toonkit.augment.outline import outline

        return outline(photo)

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        G, D, adv = self.net["generator"], self.net["discriminator"], self.loss["adversarial"]
        target = batch["cartoon"]
        with torch.no_grad():
            source = self.aug["outline"](target)
        fake = G(source)
        real_logits, fake_logits = D(torch.cat([torch.cat([source, target], 1),
                                                torch.cat([source, fake.detach()], 1)])).chunk(2)
        d_loss = 0.5 * (adv(real_logits, True, for_discriminator=True)
                        + adv(fake_logits, False, for_discriminator=True))
        ctx.optimize("discriminator", d_loss)
        with frozen(D) as (d,):
            g_adv = adv(d(torch.cat([source, fake], 1)), True, for_discriminator=False)
        pixel = self.loss["pixel"](fake, target)
        ctx.optimize("generator", g_adv + self.w_pixel * pixel, adv=g_adv, pixel=pixel)
        return {"d": d_loss.detach(), "g_adv": g_adv.detach(), "pixel": pixel.detach()}

    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        photo = batch["photo"]
        source = self.prepare_input(photo)
        return [photo, source, self.net["generator"](source)]


def register(registry: Any) -> None:
    registry.add("method", "pix2pix", Pix2PixOutline)
