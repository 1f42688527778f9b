"""Selfie-GAN: CartoonGAN with a U-Net masker S before D, so D never sees the background."""
from __future__ import annotations

from typing import Any, Literal, Optional

import torch

from toonkit.methods.base import Phase, Roles, Slot, StepContext
from toonkit.methods.cartoongan import CartoonGAN
from toonkit.nets.layers import check_choice


class SelfieGAN(CartoonGAN):
    """Selfie-GAN: CartoonGAN whose discriminator sees ``m·img + (1−m)·fill`` with ``m = S(img)``.

    Args:
        w_content: ``w1``, weight of the content loss. The paper's 0.01 (kept in the paper-faithful
            recipe) lets G paint the person a flat colour within a few hundred steps with a
            mean-reduced L1; the default is CartoonGAN's 10, which keeps identity (see
            ``benchmarks/results/gpu_selfie_gan_h100``).
        w_seg: ``w2``, weight of the masker's BCE loss (paper: 10).
        w_color, w_style, w_flat: weights of the colour-consistency, Gram style and flat-surface
            losses (see :class:`CartoonGAN`); not in the paper.
        style_color: ``rgb`` or ``gray``, what the Gram style loss compares (see :class:`CartoonGAN`).
        fill: the constant in [-1, 1] that replaces the background D would have seen.
        masker_weights: a trained masker's weights (safetensors or state dict); the ``masker`` phase is
            then skipped.
        reuse_cartoon_mask: give each edge-smoothed cartoon its cartoon's mask instead of running S on
            it (smoothing only blurs edges, the silhouette is the same); saves a third of S's work.
        style_region: where the Gram style loss (``w_style``) compares textures: ``image`` (the whole
            image, as CartoonGAN) or ``person``: only inside S's masks, of the cartoons and of G's output,
            so the style images' backgrounds (scenery, rooms) are not part of the texture the person is
            painted with (the reason the paper hides the background from D, applied to the style term).

    Phases:
        ``init`` (G, content loss), ``masker`` (S, BCE against person masks), ``adversarial``
        (D and G; S frozen).
    """

    nets = {**CartoonGAN.nets, "masker": Slot("masker", "unet")}
    losses = {**CartoonGAN.losses, "segmentation": Slot("loss", "segmentation")}
    phases = (
        CartoonGAN.phases[0],
        Phase("masker", ("masker",), "photos", epochs=20, summary="S learns person masks (BCE)", masks=True),
        Phase("adversarial", ("discriminator", "generator"), "unpaired", epochs=20,
              summary="edge-promoting adversarial training through the frozen masker"),
    )
    roles = Roles(masker="masker", smoothing="edge_smooth")

    def __init__(self, w_content: float = 10.0, w_seg: float = 10.0, fill: float = 0.0,
                 masker_weights: Optional[str] = None, reuse_cartoon_mask: bool = True,
                 w_color: float = 0.0, w_style: float = 0.0, w_flat: float = 0.0,
                 style_region: Literal["image", "person"] = "image",
                 style_color: Literal["rgb", "gray"] = "rgb") -> None:
        super().__init__(w_content=w_content, w_color=w_color, w_style=w_style, w_flat=w_flat,
                         style_color=style_color)
        self.w_seg, self.fill, self.masker_weights = w_seg, fill, masker_weights
        self.reuse_cartoon_mask = reuse_cartoon_mask
        check_choice("style_region", style_region, ("image", "person"))
        self.style_region = style_region

    def init_weights(self) -> None:
        if self.masker_weights:
            from toonkit.weights import load_state_file

            self.net["masker"].load_state_dict(load_state_file(self.masker_weights))

    def phase_active(self, phase: str) -> bool:
        return not (phase == "masker" and self.masker_weights)

    @torch.no_grad()
    def mask(self, images: torch.Tensor) -> torch.Tensor:
        """Soft person mask in [0, 1] from the (frozen) masker."""
        return torch.sigmoid(self.net["masker"](images).float())

    def composite(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return mask.to(images.dtype) * images + (1 - mask.to(images.dtype)) * self.fill

    def discriminator_views(self, cartoon: torch.Tensor, smooth: torch.Tensor, fake: torch.Tensor
                            ) -> tuple[torch.Tensor, Any]:
        images = torch.cat([cartoon, smooth, fake])
        if self.reuse_cartoon_mask:
            m_cartoon, m_fake = self.mask(torch.cat([cartoon, fake])).split([cartoon.shape[0], fake.shape[0]])
            masks = torch.cat([m_cartoon, m_cartoon, m_fake])
        else:
            masks = self.mask(images)
        return self.composite(images, masks), masks

    def style_regions(self, memo: Any, n_cartoon: int, n_fake: int
                      ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self.style_region == "image":
            return None, None
        # memo holds the masks of the D batch: cartoons, smoothed cartoons, fakes
        return memo[:n_cartoon], memo[-n_fake:]

    def view_again(self, images: torch.Tensor, memo: Any) -> torch.Tensor:
        # the fakes are the last rows of the D batch: reuse their masks instead of running S again
        return self.composite(images, memo[-images.shape[0]:])

    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        if ctx.phase == "masker":
            seg = self.loss["segmentation"](self.net["masker"](batch["photo"]), batch["mask"])
            ctx.optimize("masker", self.w_seg * seg, seg=seg)
            return {"seg": seg.detach()}
        if ctx.phase == "adversarial":
            self.net["masker"].eval()  # frozen: no dropout/batch-norm updates, no gradients
        return super().train_step(batch, ctx)

    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        photo = batch["photo"]
        return [photo, self.translate(photo), self.mask(photo)]


def register(registry: Any) -> None:
    registry.add("method", "selfie_gan", SelfieGAN)
