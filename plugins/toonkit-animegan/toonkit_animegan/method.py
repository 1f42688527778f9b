"""The ``animegan`` training method: AnimeGANv2 (Chen, Liu, Chen 2020) on toonkit's trainer."""
from __future__ import annotations

from typing import ClassVar

import torch

from toonkit.methods.base import Method, Phase, Roles, Slot, StepContext, frozen
from toonkit_animegan.losses import grayscale


class AnimeGAN(Method):
    """AnimeGANv2: a light generator trained with grayscale style, YUV colour and edge-promoting losses.

    ``init``: G reconstructs photos (VGG content loss). ``adversarial``: D learns that anime images are
    real and that generated images, grayscale anime images and edge-smoothed anime images are fake
    (toonkit's ``edge_promoting`` loss plus a grayscale term); then G minimises

    ``w_adv·adv + w_content·content(G(p), p) + w_style·gray_style(G(p), gray(a))
    + w_color·color(G(p), p) + w_tv·tv(G(p))``.

    Defaults are the authors' ``train.py`` defaults (LSGAN, adversarial weight 300, content 1.5,
    style 2.5, colour 10, TV 1). Where toonkit's ``edge_promoting`` loss weighs its three terms
    equally, AnimeGANv2 weighs them 1.2 / 0.8 (smoothed) / 1.2; the grayscale term here uses
    ``w_d_gray`` (1.2 by default, relative to the others' 1).

    Args:
        w_adv: weight of G's adversarial loss.
        w_d_adv: weight of D's whole loss.
        w_d_gray: weight of D's "grayscale anime is fake" term.
        w_content: weight of the VGG content loss (also the init phase's loss weight).
        w_style: weight of the grayscale Gram style loss.
        w_color: weight of the YUV colour loss.
        w_tv: weight of the total variation loss.
        smooth_gray: show D the edge-smoothed anime images in grayscale, as AnimeGANv2's data loader
            does (False: in colour, as CartoonGAN).

    Phases:
        ``init`` (G; photos) and ``adversarial`` (D then G; photos and anime images).
    """

    nets: ClassVar[dict[str, Slot]] = {
        "generator": Slot("generator", "animegan"),
        "discriminator": Slot("discriminator", "animegan"),
        "feature": Slot("feature", "vgg", params={"arch": "vgg19", "layer": "conv4_4"}, trainable=False),
    }
    losses: ClassVar[dict[str, Slot]] = {
        "adversarial": Slot("loss", "adversarial", params={"mode": "lsgan"}),
        "discriminator": Slot("loss", "edge_promoting", params={"mode": "lsgan"}),
        "content": Slot("loss", "content"),
        "style": Slot("loss", "animegan_gray_style"),
        "color": Slot("loss", "animegan_color"),
        "tv": Slot("loss", "total_variation"),
    }
    augment: ClassVar[dict[str, Slot]] = {"edge_smooth": Slot("augmenter", "edge_smooth")}
    roles: ClassVar[Roles] = Roles(smoothing="edge_smooth")  # the data pipeline caches the smoothed twins
    phases: ClassVar[tuple[Phase, ...]] = (
        Phase("init", ("generator",), "photos", epochs=10, summary="G reconstructs photos (content loss)"),
        Phase("adversarial", ("discriminator", "generator"), "unpaired", epochs=100,
              summary="D: anime real, generated/gray/smoothed fake; G: adversarial + style, colour, TV"),
    )

    def __init__(self, w_adv: float = 300.0, w_d_adv: float = 300.0, w_d_gray: float = 1.2,
                 w_content: float = 1.5, w_style: float = 2.5, w_color: float = 10.0, w_tv: float = 1.0,
                 smooth_gray: bool = True) -> None:
        super().__init__()
        self.w_adv, self.w_d_adv, self.w_d_gray = w_adv, w_d_adv, w_d_gray
        self.w_content, self.w_style, self.w_color, self.w_tv = w_content, w_style, w_color, w_tv
        self.smooth_gray = smooth_gray

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
            ctx.optimize("generator", self.w_content * content, content=content)
            return {"content": content.detach()}

        D, feature = self.net["discriminator"], self.net["feature"]
        anime = batch["cartoon"]
        smooth = batch.get("smooth")
        with torch.no_grad():
            if smooth is None:  # not cached by the data pipeline: smooth on the device
                smooth = self.aug["edge_smooth"](anime)
            smooth = smooth.to(anime.dtype)
            if self.smooth_gray:
                smooth = grayscale(smooth)
            gray = grayscale(anime)
        fake = G(photo)

        # D: one pass over anime | smoothed | generated | grayscale (a single forward per backward)
        sizes = [anime.shape[0], smooth.shape[0], fake.shape[0], gray.shape[0]]
        real_l, smooth_l, fake_l, gray_l = D(torch.cat([anime, smooth, fake.detach(), gray])).split(sizes)
        gray_term = self.loss["adversarial"](gray_l, False)
        edge = self.loss["discriminator"](real_l, smooth_l, fake_l)
        d_loss = self.w_d_adv * (edge + self.w_d_gray * gray_term)
        ctx.optimize("discriminator", d_loss)

        # G
        with frozen(D) as (d,):  # D's own weight gradients would be discarded: skip computing them
            adv = self.loss["adversarial"](d(fake), True, for_discriminator=False)
        fake_feat = feature(fake)
        with torch.no_grad():
            photo_feat = feature(photo)
            gray_feat = feature(gray)
        content = self.loss["content"](fake_feat, photo_feat)
        style = self.loss["style"](fake_feat, gray_feat)
        color = self.loss["color"](fake, photo)
        tv = self.loss["tv"](fake)
        g_loss = (self.w_adv * adv + self.w_content * content + self.w_style * style
                  + self.w_color * color + self.w_tv * tv)
        ctx.optimize("generator", g_loss, adv=adv, content=content, style=style, color=color, tv=tv)
        return {"d": d_loss.detach(), "g_adv": adv.detach(), "content": content.detach(),
                "style": style.detach(), "color": color.detach(), "tv": tv.detach()}
