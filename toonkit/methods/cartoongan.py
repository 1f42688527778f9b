"""CartoonGAN (Chen, Lai, Liu, CVPR 2018): content-loss initialisation, then edge-promoting GAN."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch

from toonkit.imaging import rgb_to_gray
from toonkit.methods.base import Method, Phase, Roles, Slot, StepContext, frozen
from toonkit.nets.layers import check_choice


class CartoonGAN(Method):
    """CartoonGAN: G initialised on content loss, then D learns cartoons vs edge-smoothed and generated.

    Args:
        w_content: weight of the VGG content loss in the generator's adversarial-phase loss
            (CartoonGAN used 10; see the recipes for the value used with Selfie-GAN).
        w_color: weight of the colour-consistency loss (slot ``color``) between G(p) and p in the
            adversarial phase: the generator repaints texture but keeps the photo's local mean colours
            (skin tone among them). 0 (CartoonGAN) leaves colour to the discriminator.
        w_style: weight of a Gram style loss (slot ``style``, AnimeGAN's texture term) between G(p)'s
            feature maps (the content loss's, computed once) and the mean Gram matrix of the step's
            cartoons (after the style jitter, so their colours do not become the target). 0: none.
        w_flat: weight of the flat-surface loss (slot ``flat``): G(p) against its own mean-shift
            flattened version, which rewards flat colour regions with clean edges. 0: none.
        style_color: what the Gram style loss compares: ``rgb`` (the images as they are) or ``gray``
            (both sides in grayscale, as AnimeGAN does): texture and shading only, so the style images'
            hair and eye colours are not a target the person's colours are pulled towards. Costs one more
            pass of the feature network over G(p) per step.

    An optional ``style_jitter`` augmenter (none by default) changes the colours of each cartoon and its
    smoothed twin alike before D sees them, so D cannot learn the style set's skin tone as style. An
    optional ``d_augment`` augmenter (none by default; ``diff_augment`` for a few style images) transforms
    every image D sees, real and generated, in both of D's and G's steps, differentiably.

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
        "color": Slot("loss", "color_consistency"),
        "style": Slot("loss", "gram_style"),
        "flat": Slot("loss", "flat_surface"),
    }
    augment = {"edge_smooth": Slot("augmenter", "edge_smooth"),
               "style_jitter": Slot("augmenter", None, optional=True),
               "d_augment": Slot("augmenter", None, optional=True)}
    roles = Roles(smoothing="edge_smooth")
    phases: ClassVar[tuple[Phase, ...]] = (
        Phase("init", ("generator",), "photos", epochs=1, summary="G reconstructs photos (content loss)"),
        Phase("adversarial", ("discriminator", "generator"), "unpaired", epochs=20,
              summary="edge-promoting adversarial training"),
    )

    def __init__(self, w_content: float = 10.0, w_color: float = 0.0, w_style: float = 0.0,
                 w_flat: float = 0.0, style_color: Literal["rgb", "gray"] = "rgb") -> None:
        super().__init__()
        self.w_content, self.w_color, self.w_style, self.w_flat = w_content, w_color, w_style, w_flat
        check_choice("style_color", style_color, ("rgb", "gray"))
        self.style_color = style_color

    # What D looks at; Selfie-GAN overrides this to hide the background.
    def discriminator_views(self, cartoon: torch.Tensor, smooth: torch.Tensor, fake: torch.Tensor
                            ) -> tuple[torch.Tensor, Any]:
        """The three sets as one batch the way D sees them, plus what :meth:`view_again` needs."""
        return torch.cat([cartoon, smooth, fake]), None

    def view_again(self, images: torch.Tensor, memo: Any) -> torch.Tensor:
        return images

    def d_augment(self, views: torch.Tensor) -> torch.Tensor:
        """D's input after the optional ``d_augment`` augmenter (the same for real and generated images,
        so it never becomes part of the style)."""
        return self.aug["d_augment"](views) if "d_augment" in self.aug else views

    def content_loss(self, fake: torch.Tensor, photo: torch.Tensor,
                     fake_features: torch.Tensor | None = None) -> torch.Tensor:
        """The content loss; ``fake_features`` (``feature(fake)``) when the caller already computed them."""
        feature = self.net["feature"]
        with torch.no_grad():
            target = feature(photo)
        return self.loss["content"](feature(fake) if fake_features is None else fake_features, target)

    def style_regions(self, memo: Any, n_cartoon: int, n_fake: int
                      ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Where the Gram style loss looks in the cartoons and in the fakes: per-pixel weights in [0, 1],
        or ``None`` for the whole image (CartoonGAN). ``memo`` is what :meth:`discriminator_views` returned
        for ``n_cartoon`` cartoons (twice: plain and smoothed) and ``n_fake`` fakes."""
        return None, None

    def style_loss(self, fake: torch.Tensor, fake_features: torch.Tensor, cartoon: torch.Tensor,
                   cartoon_weight: torch.Tensor | None = None, fake_weight: torch.Tensor | None = None
                   ) -> torch.Tensor:
        """Gram style loss of G's features against the mean Gram matrix of the cartoons' features, each
        over its weighted region when weights are given (see :func:`~toonkit.losses.gram_matrix`).
        ``fake_features`` (``feature(fake)``) are reused unless ``style_color`` is ``gray``."""
        from toonkit.losses import gram_matrix

        feature = self.net["feature"]
        if self.style_color == "gray":
            cartoon, fake = _gray(cartoon), _gray(fake)
            fake_features = feature(fake)
        with torch.no_grad():
            target = gram_matrix(feature(cartoon), cartoon_weight).mean(0, keepdim=True)
        source = fake_features if fake_weight is None else gram_matrix(fake_features, fake_weight)
        return self.loss["style"]([source], [target])

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
        if "style_jitter" in self.aug:
            cartoon, smooth = self.aug["style_jitter"](cartoon, smooth.to(cartoon.dtype))
        fake = G(photo)
        n = photo.shape[0]
        # one D pass over cartoons, smoothed cartoons and fakes: a single forward per backward (DDP)
        views, memo = self.discriminator_views(cartoon, smooth.to(cartoon.dtype), fake.detach())
        views = self.d_augment(views)
        real_logits, smooth_logits, fake_logits = D(views).split([cartoon.shape[0], smooth.shape[0], n])
        d_loss = self.loss["discriminator"](real_logits, smooth_logits, fake_logits)
        ctx.optimize("discriminator", d_loss)

        fake_view = self.d_augment(self.view_again(fake, memo))
        with frozen(D) as (d,):
            adv = self.loss["adversarial"](d(fake_view), True, for_discriminator=False)
        fake_features = self.net["feature"](fake)
        content = self.content_loss(fake, photo, fake_features)
        g_loss = adv + self.w_content * content
        parts = {"adv": adv, "content": content}
        if self.w_style:
            cartoon_weight, fake_weight = self.style_regions(memo, cartoon.shape[0], n)
            parts["style"] = self.style_loss(fake, fake_features, cartoon, cartoon_weight, fake_weight)
            g_loss = g_loss + self.w_style * parts["style"]
        if self.w_color:
            parts["color"] = self.loss["color"](fake, photo)
            g_loss = g_loss + self.w_color * parts["color"]
        if self.w_flat:
            parts["flat"] = self.loss["flat"](fake)
            g_loss = g_loss + self.w_flat * parts["flat"]
        ctx.optimize("generator", g_loss, **parts)
        logged = {"d": d_loss.detach(), "g_adv": adv.detach(), "content": content.detach()}
        logged.update({k: parts[k].detach() for k in ("style", "color", "flat") if k in parts})
        return logged


def register(registry: Any) -> None:
    registry.add("method", "cartoongan", CartoonGAN)


def _gray(images: torch.Tensor) -> torch.Tensor:
    """Grayscale (BT.601 luma) in three channels, for a feature network that takes RGB; linear, so
    images in [-1, 1] stay in [-1, 1]."""
    return rgb_to_gray(images).expand_as(images)
