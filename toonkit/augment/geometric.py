"""Batch augmentations built on kornia that move an image and its mask together.

Both augmenters take ``aug(x, mask=None)`` and return ``x`` or ``(x, mask)``; within a call every
random parameter drawn for an image is applied to its mask (kornia's ``AugmentationSequential`` with
``data_keys``). For geometric changes the mask is passed as a second ``input`` key, so it is resampled
by exactly the image's code path (bilinear, antialiased) — kornia's ``mask`` key would resample it
differently (nearest, or no antialiasing) and misalign soft edges. Intensity changes skip masks.
"""
from __future__ import annotations

import kornia.augmentation as K
from torch import Tensor, nn

from toonkit.imaging import from_unit, to_unit

__all__ = ["ColorJitter", "Geometric"]


def _check_input(x: Tensor, mask: Tensor | None) -> None:
    if x.ndim != 4:
        raise ValueError(f"expected an N×C×H×W batch, got shape {tuple(x.shape)}")
    if mask is not None and (mask.ndim != 4 or mask.shape[0] != x.shape[0]
                             or mask.shape[-2:] != x.shape[-2:]):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not match images {tuple(x.shape)}; "
                         "expected N×1×H×W")


class _Paired(nn.Module):
    """Runs an ``AugmentationSequential`` on images, or on images and masks with shared parameters."""

    def __init__(self, *augs: nn.Module) -> None:
        super().__init__()
        self.image_only = K.AugmentationSequential(*augs, data_keys=["input"])
        self.paired = K.AugmentationSequential(*augs, data_keys=["input", "input"])

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        _check_input(x, mask)
        if mask is None:
            return self.image_only(x)
        out, out_mask = self.paired(x, mask.to(x.dtype))
        return out, out_mask.clamp(0.0, 1.0).to(mask.dtype)


class Geometric(_Paired):
    """Resize (shorter side), crop to a square and randomly flip a batch; masks follow their images.

    Args:
        size: side of the square output.
        load_size: the shorter side is resized to this before cropping (``None``: ``size``); a
            ``load_size`` above ``size`` gives random-crop jitter (e.g. 286 → 256).
        hflip: probability of a horizontal flip per image.
        random_crop: random crop position per image; ``False`` crops the centre (evaluation).

    Shape:
        - x: (N, C, H, W) in [-1, 1]; mask: (N, 1, H, W) in [0, 1]
        - Output: (N, C, size, size), and (N, 1, size, size) when a mask is given

    Example:
        >>> aug = Geometric(size=32, load_size=40)
        >>> img, m = aug(torch.rand(2, 3, 48, 64) * 2 - 1, torch.rand(2, 1, 48, 64))
        >>> tuple(img.shape), tuple(m.shape)
        ((2, 3, 32, 32), (2, 1, 32, 32))
    """

    def __init__(
        self,
        size: int = 256,
        load_size: int | None = None,
        hflip: float = 0.5,
        random_crop: bool = True,
    ) -> None:
        load = load_size or size
        if load < size:
            raise ValueError(f"load_size ({load}) must be >= size ({size})")
        crop = (K.RandomCrop((size, size), pad_if_needed=True) if random_crop
                else K.CenterCrop((size, size)))
        augs: list[nn.Module] = [K.Resize(load, side="short", antialias=True, align_corners=False), crop]
        if hflip > 0:
            augs.append(K.RandomHorizontalFlip(p=hflip))
        super().__init__(*augs)
        self.size, self.load_size, self.hflip, self.random_crop = size, load, hflip, random_crop

    def extra_repr(self) -> str:
        return (f"size={self.size}, load_size={self.load_size}, hflip={self.hflip}, "
                f"random_crop={self.random_crop}")


class ColorJitter(nn.Module):
    """Random brightness, contrast, saturation and hue per image (kornia); masks pass unchanged.

    Args:
        brightness: maximum brightness change (fraction).
        contrast: maximum contrast change (fraction).
        saturation: maximum saturation change (fraction).
        hue: maximum hue shift, in turns (at most 0.5).
        p: probability of jittering each image.

    Shape:
        - x: (N, 3, H, W) in [-1, 1]; mask: (N, 1, H, W)
        - Output: same shapes, images still in [-1, 1]

    Example:
        >>> ColorJitter(hue=0.05)(torch.zeros(2, 3, 8, 8)).shape
        torch.Size([2, 3, 8, 8])
    """

    def __init__(
        self,
        brightness: float = 0.1,
        contrast: float = 0.1,
        saturation: float = 0.1,
        hue: float = 0.02,
        p: float = 1.0,
    ) -> None:
        super().__init__()
        self.jitter = K.AugmentationSequential(K.ColorJitter(brightness, contrast, saturation, hue, p=p),
                                               data_keys=["input"])
        self.params = {"brightness": brightness, "contrast": contrast, "saturation": saturation, "hue": hue, "p": p}

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        _check_input(x, mask)
        # kornia's colour ops expect [0, 1]; map there and back. Masks are not colours: they pass as is.
        out = from_unit(self.jitter(to_unit(x)))
        return out if mask is None else (out, mask)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items())
