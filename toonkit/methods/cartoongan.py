"""CartoonGAN (Chen, Lai, Liu, CVPR 2018): content-loss initialisation, then edge-promoting GAN."""
from __future__ import annotations

from typing import Any, ClassVar

import torch

from toonkit.methods.base import Method, Phase, Roles, Slot, StepContext, frozen


class CartoonGAN(Method):
    """CartoonGAN: G initialised on content loss, then D learns cartoons vs edge-smoothed and generated.

    Args:
        w_content: weight of the VGG content loss in the generator's adversarial-phase loss
            (CartoonGAN used 10; see the recipes for the value used with Selfie-GAN).

    Phases:
        ``init`` (G, content loss only; photos) and ``adversarial`` (D then G; photos and cartoons).
    """

    nets = {
        "generator": Slot("generator", "cartoongan"),
        "discriminator": Slot("discriminator", "cartoongan"),
        "feature": Slot("feature", "vgg", trainable=False),
    }
    losses = {
        "adversarial": Slot("loss", "adversarial"),
        "discriminator": Slot("loss", "edge_promoting"),
        "content": Slot("loss", "content"),
    }
    augment = {"edge_smooth": Slot("augmenter", "edge_smooth")}
    roles = Roles(smoothing="edge_smooth")
    phases: ClassVar[tuple[Phase, ...]] = (
        Phase("init", ("generator",), "photos", epochs=1, summary="G reconstructs photos (content loss)"),
        Phase("adversarial", ("discriminator", "generator"), "unpaired", epochs=20,
              summary="edge-promoting adversarial training"),
    )

    def __init__(self, w_content: float = 10.0) -> None:
        super().__init__()
        self.w_content = w_content

    # What D looks at; Selfie-GAN overrides this to hide the background.
    def discriminator_views(self, cartoon: torch.Tensor, smooth: torch.Tensor, fake: torch.Tensor
                            ) -> tuple[torch.Tensor, Any]:
        """The three sets as one batch the way D sees them, plus what :meth:`view_again` needs."""
        return torch.cat([cartoon, smooth, fake]), None

    def view_again(self, images: torch.Tensor, memo: Any) -> torch.Tensor:
        return images

    def content_loss(self, fake: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
        feature = self.net["feature"]
        with torch.no_grad():
            target = feature(photo)
        return self.loss["content"](feature(fake), target)

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        G = self.net["generator"]
        photo = batch["photo"]
        if ctx.phase == "init":
            content = self.content_loss(G(photo), photo)
            ctx.optimize("generator", content)
            return {"content": content.detach()}

        D = self.net["discriminator"]
        cartoon = batch["cartoon"]
        smooth = batch.get("smooth")
        if smooth is None:  # not cached by the data pipeline: smooth on the device
            with torch.no_grad():
                smooth = self.aug["edge_smooth"](cartoon)
        fake = G(photo)
        n = photo.shape[0]
        # one D pass over cartoons, smoothed cartoons and fakes: a single forward per backward (DDP)
        views, memo = self.discriminator_views(cartoon, smooth.to(cartoon.dtype), fake.detach())
        real_logits, smooth_logits, fake_logits = D(views).split([cartoon.shape[0], smooth.shape[0], n])
        d_loss = self.loss["discriminator"](real_logits, smooth_logits, fake_logits)
        ctx.optimize("discriminator", d_loss)

        fake_view = self.view_again(fake, memo)
        with frozen(D) as (d,):
            adv = self.loss["adversarial"](d(fake_view), True, for_discriminator=False)
        content = self.content_loss(fake, photo)
        g_loss = adv + self.w_content * content
        ctx.optimize("generator", g_loss, adv=adv, content=content)
        return {"d": d_loss.detach(), "g_adv": adv.detach(), "content": content.detach()}


def register(registry: Any) -> None:
    registry.add("method", "cartoongan", CartoonGAN)
