"""Colour drift of the person: CIEDE2000 between the blurred photo and the blurred translation."""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from toonkit.metrics.base import (
    EvalContext,
    Metric,
    binary_mask,
    eroded_mask,
    masked_mean_per_image,
    mean_over_images,
    resize_like,
)
from toonkit.imaging import to_unit

_25_POW_7 = 25.0**7


def _deg(x: Tensor) -> Tensor:
    return torch.rad2deg(x)


def _cos_deg(x: Tensor) -> Tensor:
    return torch.cos(torch.deg2rad(x))


def delta_e_ciede2000(lab1: Tensor, lab2: Tensor, dim: int = -3, k_l: float = 1.0, k_c: float = 1.0,
                      k_h: float = 1.0) -> Tensor:
    """CIEDE2000 colour difference between two CIELAB tensors, vectorised.

    Follows Sharma, Wu and Dalal, "The CIEDE2000 colour-difference formula: implementation notes,
    supplementary test data, and mathematical observations" (2005), eqs. 1-22, including their
    conventions for achromatic colours (hue 0, hue difference 0) and for the mean hue across 0°/360°.

    Args:
        lab1: first colours, channels (L*, a*, b*) along ``dim``.
        lab2: second colours, same shape.
        dim: the channel dimension.
        k_l, k_c, k_h: parametric weights (1 for the reference conditions).

    Returns:
        ΔE00, the shape of the inputs without ``dim``.

    Shape:
        - lab1, lab2: :math:`(*, 3, H, W)` with the default ``dim``; output :math:`(*, H, W)`.

    Example:
        >>> lab1 = torch.tensor([50.0, 2.6772, -79.7751]).view(1, 3, 1, 1)
        >>> lab2 = torch.tensor([50.0, 0.0, -82.7485]).view(1, 3, 1, 1)
        >>> round(float(delta_e_ciede2000(lab1, lab2)), 4)
        2.0425
    """
    l1, a1, b1 = lab1.unbind(dim)
    l2, a2, b2 = lab2.unbind(dim)
    c_bar = (torch.hypot(a1, b1) + torch.hypot(a2, b2)) / 2
    c_bar7 = c_bar**7
    g = 0.5 * (1 - torch.sqrt(c_bar7 / (c_bar7 + _25_POW_7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = torch.hypot(a1p, b1), torch.hypot(a2p, b2)
    # atan2(0, 0) is 0, which is the paper's convention for an achromatic colour
    h1p = torch.remainder(_deg(torch.atan2(b1, a1p)), 360.0)
    h2p = torch.remainder(_deg(torch.atan2(b2, a2p)), 360.0)

    chroma_product = c1p * c2p
    achromatic = chroma_product == 0
    dhp = h2p - h1p
    dhp = torch.where(dhp > 180, dhp - 360, torch.where(dhp < -180, dhp + 360, dhp))
    dhp = torch.where(achromatic, torch.zeros_like(dhp), dhp)
    d_lp = l2 - l1
    d_cp = c2p - c1p
    d_hp = 2 * torch.sqrt(chroma_product) * torch.sin(torch.deg2rad(dhp) / 2)

    l_barp = (l1 + l2) / 2
    c_barp = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_barp = torch.where(
        (h1p - h2p).abs() <= 180, h_sum / 2, torch.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2)
    )
    h_barp = torch.where(achromatic, h_sum, h_barp)

    t = (1 - 0.17 * _cos_deg(h_barp - 30) + 0.24 * _cos_deg(2 * h_barp) + 0.32 * _cos_deg(3 * h_barp + 6)
         - 0.20 * _cos_deg(4 * h_barp - 63))
    d_theta = 30 * torch.exp(-(((h_barp - 275) / 25) ** 2))
    c_barp7 = c_barp**7
    r_c = 2 * torch.sqrt(c_barp7 / (c_barp7 + _25_POW_7))
    l50 = (l_barp - 50) ** 2
    s_l = 1 + 0.015 * l50 / torch.sqrt(20 + l50)
    s_c = 1 + 0.045 * c_barp
    s_h = 1 + 0.015 * c_barp * t
    r_t = -torch.sin(torch.deg2rad(2 * d_theta)) * r_c

    tl, tc, th = d_lp / (k_l * s_l), d_cp / (k_c * s_c), d_hp / (k_h * s_h)
    # the sum is >= 0 mathematically; clamp guards the sqrt against rounding just below 0
    return torch.sqrt((tl**2 + tc**2 + th**2 + r_t * tc * th).clamp_min(0))


def masked_blur(images: Tensor, mask: Tensor, sigma: float) -> Tensor:
    """Gaussian blur that averages only pixels inside ``mask`` (normalised convolution).

    ``blur(x·m) / blur(m)``: near the outline the person's colour is not mixed with the background's.

    Shape:
        - images: :math:`(N, C, H, W)`, mask: :math:`(N, 1, H, W)` in {0, 1}; output like ``images``
          (0 where the blurred mask is 0).
    """
    if sigma <= 0:
        return images * mask
    from kornia.filters import gaussian_blur2d

    size = 2 * math.ceil(3 * sigma) + 1
    size = min(size, 2 * (min(images.shape[-2:]) // 2) - 1)  # reflect padding must fit in the image
    kernel, sig = (size, size), (sigma, sigma)
    num = gaussian_blur2d(images * mask, kernel, sig, border_type="reflect")
    den = gaussian_blur2d(mask, kernel, sig, border_type="reflect")
    return num / den.clamp_min(1e-6) * (den > 1e-6)


def person_chunks(inputs: Tensor, outputs: Tensor, masks: Tensor | None, device: torch.device | str,
                  batch_size: int) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """Photos and translations in [0, 1] with their person masks, ``batch_size`` at a time, on ``device``.

    Outputs are resized to their photo's size and masks (all ones without masks) to match, nearest.
    """
    outputs = resize_like(outputs, tuple(inputs.shape[-2:]))
    for i in range(0, inputs.shape[0], batch_size):
        x = to_unit(inputs[i:i + batch_size].to(device).float(), clamp=True)
        y = to_unit(outputs[i:i + batch_size].to(device).float(), clamp=True)
        m = (torch.ones_like(x[:, :1]) if masks is None else
             resize_like(masks[i:i + batch_size].to(device).float(), tuple(x.shape[-2:]), mode="nearest"))
        yield x, y, m


class ColorDrift(Metric):
    """Mean CIEDE2000 between the photo's and the translation's blurred colours on the person.

    It measures whether the method kept the person's colours (skin, hair, clothes) rather than, for
    example, tinting the face with the style images' background colour; blurring first (Gaussian,
    ``sigma`` px, averaging only pixels inside the person's mask) compares local average colour, not the
    texture or outlines a cartoon is expected to change. Both images go from [-1, 1] sRGB to CIELAB (D65,
    kornia ``rgb_to_lab``) and ΔE00 is averaged over the eroded person mask (``erode`` px square) of each
    photo, then over photos. Without masks the whole image is used. ΔE00 ≈ 1 is a just-noticeable
    difference. Column ``dE2000``; lower is better.

    Args:
        sigma: Gaussian blur standard deviation in pixels of the input resolution.
        erode: side of the square erosion kernel in pixels (1 disables erosion).
        batch_size: images processed at once.
    """

    name = "color_drift"
    higher_is_better = False
    requires = ("inputs",)

    def __init__(self, sigma: float = 3.0, erode: int = 7, batch_size: int = 16) -> None:
        self.sigma = sigma
        self.erode = erode
        self.batch_size = batch_size

    def columns(self) -> tuple[str, ...]:
        return ("dE2000",)

    def per_image(self, inputs: Tensor, outputs: Tensor, masks: Tensor | None, device: torch.device | str
                  ) -> Tensor:
        """Colour drift of each photo; shape :math:`(N,)`, NaN where the eroded mask is empty."""
        from kornia.color import rgb_to_lab

        values = []
        for x, y, m in person_chunks(inputs, outputs, masks, device, self.batch_size):
            region = binary_mask(m)
            lab_x = rgb_to_lab(masked_blur(x, region, self.sigma))
            lab_y = rgb_to_lab(masked_blur(y, region, self.sigma))
            de = delta_e_ciede2000(lab_x, lab_y).unsqueeze(1)
            values.append(masked_mean_per_image(de, eroded_mask(m, self.erode)).cpu())
        return torch.cat(values)

    def compute(self, ctx: EvalContext) -> dict[str, float]:
        per_image = self.per_image(ctx.inputs, ctx.get_outputs(self.batch_size), ctx.masks, ctx.device)
        return {"dE2000": mean_over_images(ctx.record("dE2000", per_image), self.name)}


class FaceRedness(Metric):
    """How much redder the person became: mean CIELAB a* on the person, translation minus photo.

    The paper's failure made a number: CartoonGAN trained on portraits painted on red backgrounds
    "gradually fills the face with red", which raises a* (the green–red axis) on the person. Both
    images go from [-1, 1] sRGB to CIELAB (D65, kornia ``rgb_to_lab``); a* is averaged over the eroded
    person mask (``erode`` px square) of each photo, then the photo's mean is subtracted from the
    translation's, and the differences are averaged over photos. Positive values: the person got
    redder; negative: greener. Column ``da*``; lower is better for the paper's claim (compare methods,
    and read it next to ``dE2000``, which counts every colour change).

    Args:
        erode: side of the square erosion kernel in pixels (1 disables erosion).
        batch_size: images processed at once.

    Example:
        >>> photos = torch.zeros(2, 3, 16, 16)
        >>> redder = photos.clone(); redder[:, 0] += 0.5
        >>> ctx = EvalContext(inputs=photos, outputs=redder, masks=torch.ones(2, 1, 16, 16))
        >>> FaceRedness()(ctx)["da*"] > 10
        True
    """

    name = "face_redness"
    higher_is_better = False
    requires = ("inputs", "outputs")

    def __init__(self, erode: int = 7, batch_size: int = 16) -> None:
        self.erode = erode
        self.batch_size = batch_size

    def columns(self) -> tuple[str, ...]:
        return ("da*",)

    def per_image(self, inputs: Tensor, outputs: Tensor, masks: Tensor | None, device: torch.device | str
                  ) -> Tensor:
        """a* shift of each photo; shape :math:`(N,)`, NaN where the eroded mask is empty."""
        from kornia.color import rgb_to_lab

        values = []
        for x, y, m in person_chunks(inputs, outputs, masks, device, self.batch_size):
            region = eroded_mask(m, self.erode)
            a_x = masked_mean_per_image(rgb_to_lab(x)[:, 1:2], region)
            a_y = masked_mean_per_image(rgb_to_lab(y)[:, 1:2], region)
            values.append((a_y - a_x).cpu())
        return torch.cat(values)

    def compute(self, ctx: EvalContext) -> dict[str, float]:
        per_image = self.per_image(ctx.inputs, ctx.get_outputs(self.batch_size), ctx.masks, ctx.device)
        return {"da*": mean_over_images(ctx.record("da*", per_image), self.name)}
