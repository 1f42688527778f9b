"""Differentiable augmentation of everything a discriminator sees, for training on a few style images.

With 30 style images a discriminator soon knows each of them by heart: it separates them from the
generator's output by where things sit, not by how they are drawn, and the generator's gradient stops
carrying the style (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training", NeurIPS
2020; Karras et al.'s ADA, the same year). Shifting every image D sees, real and generated alike, and
cutting a square out of it, takes that shortcut away. The transforms are differentiable (kornia), so
the generator's loss is taken through them too, and applied to every D input, so they never become part
of the style: D cannot tell a real image from a fake by its augmentation.
"""
from __future__ import annotations

from torch import Tensor, nn

__all__ = ["DiffAugment"]


class DiffAugment(nn.Module):
    """Random whole-pixel translation and a cutout square per image, differentiable.

    Translation uses nearest-pixel sampling: a bilinear sub-pixel shift would blur edges, and blurred
    edges are what CartoonGAN's discriminator is taught to call fake (its edge-smoothed negatives).

    Args:
        translation: largest shift, as a share of the image's width and height (DiffAugment: 1/8);
            0 disables it. Uncovered pixels take ``fill``.
        cutout: side of the cut-out square as a share of the image's side (DiffAugment: 1/2); 0
            disables it. The square takes ``fill``.
        fill: the value in [-1, 1] of uncovered and cut-out pixels (0: mid grey, the background a
            Selfie-GAN discriminator sees).
        p: probability that an image is augmented at all.

    Shape:
        - Input: :math:`(N, C, H, W)`, any dtype (computed in float32, returned in the input's dtype).
        - Output: :math:`(N, C, H, W)`.

    Example:
        >>> augment = DiffAugment(translation=0.125, cutout=0.5)
        >>> x = torch.rand(4, 3, 32, 32, requires_grad=True)
        >>> augment(x).sum().backward()
        >>> x.grad.shape
        torch.Size([4, 3, 32, 32])
    """

    def __init__(self, translation: float = 0.125, cutout: float = 0.5, fill: float = 0.0,
                 p: float = 1.0) -> None:
        super().__init__()
        if not 0 <= translation < 1 or not 0 <= cutout < 1 or not -1 <= fill <= 1 or not 0 <= p <= 1:
            raise ValueError("DiffAugment: need 0 <= translation < 1, 0 <= cutout < 1, -1 <= fill <= 1, "
                             "0 <= p <= 1")
        import kornia.augmentation as K

        self.translation, self.cutout, self.fill, self.p = translation, cutout, fill, p
        steps: list[nn.Module] = []
        if translation and p:
            steps.append(K.RandomAffine(degrees=0.0, translate=(translation, translation), resample="NEAREST",
                                        padding_mode="zeros", p=p))
        if cutout and p:
            # kornia's scale is the square's share of the area; ratio 1 keeps it square
            steps.append(K.RandomErasing(scale=(cutout ** 2, cutout ** 2), ratio=(1.0, 1.0), value=0.0, p=p))
        self.steps = nn.Sequential(*steps)

    def forward(self, images: Tensor) -> Tensor:
        if images.ndim != 4:
            raise ValueError(f"DiffAugment takes N×C×H×W tensors, got shape {tuple(images.shape)}")
        if not len(self.steps):
            return images
        # kornia pads and erases with 0 (its erasing value must lie in [0, 1]): work on images - fill
        return (self.steps(images.float() - self.fill) + self.fill).to(images.dtype)

    def extra_repr(self) -> str:
        return f"translation={self.translation}, cutout={self.cutout}, fill={self.fill}, p={self.p}"

