"""CycleGAN with identity loss (Zhu et al. 2017): two generators, two discriminators, image pools."""
from __future__ import annotations

from typing import Any

import torch

from toonkit.methods.base import Method, Phase, Slot, StepContext, frozen


class ImagePool:
    """History of generated images (Shrivastava et al.): D sees a mix of new and older fakes.

    Draws use the global torch RNG, so they are reproducible and resumable with the run's RNG state.
    The pool's content is not checkpointed: a resumed run refills it (as the reference code would).
    """

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(self.size, ()))
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class CycleGAN(Method):
    """CycleGAN: G (photo→cartoon) and F (cartoon→photo) with cycle and identity losses, LSGAN.

    Args:
        w_cycle: weight of each cycle-consistency L1 term (CycleGAN: 10).
        w_identity: weight of the identity terms, relative to ``w_cycle`` (CycleGAN: 0.5).
        pool_size: size of each discriminator's image pool (CycleGAN: 50).
    """

    nets = {
        "generator": Slot("generator", "resnet", {"norm": "instance"}),
        "generator_ba": Slot("generator", "resnet", {"norm": "instance"}),
        "discriminator": Slot("discriminator", "patchgan", {"norm": "instance"}),
        "discriminator_a": Slot("discriminator", "patchgan", {"norm": "instance"}),
    }
    losses = {
        "adversarial": Slot("loss", "adversarial", {"mode": "lsgan"}),
        "cycle": Slot("loss", "cycle"),
        "identity": Slot("loss", "identity"),
    }
    phases = (Phase("adversarial", ("discriminator", "discriminator_a", "generator", "generator_ba"),
                    "unpaired", epochs=200, summary="cycle-consistent adversarial training"),)

    def __init__(self, w_cycle: float = 10.0, w_identity: float = 0.5, pool_size: int = 50) -> None:
        super().__init__()
        self.w_cycle, self.w_identity = w_cycle, w_identity
        self.pool_b, self.pool_a = ImagePool(pool_size), ImagePool(pool_size)

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        G, F = self.net["generator"], self.net["generator_ba"]
        D_b, D_a = self.net["discriminator"], self.net["discriminator_a"]
        adv, cyc, idt = self.loss["adversarial"], self.loss["cycle"], self.loss["identity"]
        a, b = batch["photo"], batch["cartoon"]
        na, nb = a.shape[0], b.shape[0]
        # one pass per generator for translation and identity (G(b) should give b back)
        fake_b, same_b = G(torch.cat([a, b])).split([na, nb])
        fake_a, same_a = F(torch.cat([b, a])).split([nb, na])
        rec_a, rec_b = F(fake_b), G(fake_a)
        with frozen(D_b, D_a) as (d_b, d_a):
            g_adv = (adv(d_b(fake_b), True, for_discriminator=False)
                     + adv(d_a(fake_a), True, for_discriminator=False))
        cycle = cyc(rec_a, a) + cyc(rec_b, b)
        identity = idt(same_b, b) + idt(same_a, a)
        g_loss = g_adv + self.w_cycle * cycle + self.w_cycle * self.w_identity * identity
        # both generators step on the joint loss; each keeps its own optimiser
        ctx.optimize(("generator", "generator_ba"), g_loss, adv=g_adv, cycle=cycle, identity=identity)

        # real and pooled fakes in one D pass each (instance norm: batching does not mix samples)
        d_b_real, d_b_fake = D_b(torch.cat([b, self.pool_b(fake_b)])).chunk(2)
        d_b = 0.5 * (adv(d_b_real, True, for_discriminator=True) + adv(d_b_fake, False, for_discriminator=True))
        ctx.optimize("discriminator", d_b)
        d_a_real, d_a_fake = D_a(torch.cat([a, self.pool_a(fake_a)])).chunk(2)
        d_a = 0.5 * (adv(d_a_real, True, for_discriminator=True) + adv(d_a_fake, False, for_discriminator=True))
        ctx.optimize("discriminator_a", d_a)
        return {"g_adv": g_adv.detach(), "cycle": cycle.detach(), "identity": identity.detach(),
                "d_b": d_b.detach(), "d_a": d_a.detach()}


def register(registry: Any) -> None:
    registry.add("method", "cyclegan", CycleGAN)
