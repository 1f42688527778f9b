"""Skin tone kept or changed: CIELAB shifts on the person's skin, grouped by the photo's ITA° skin tone.

A cartoon filter that paints every face the colour of its style images serves people of one skin tone
and not the others. This metric makes that visible: for every test photo it finds the skin pixels (the
person mask intersected with a colour rule on the *photo*), and compares the mean CIELAB colour of those
same pixels in the photo and in the translation. Photos are grouped by the Individual Typology Angle of
their skin (ITA° = atan((L* − 50) / b*), Chardon et al. 1991; the six classes of Del Bino et al. 2006),
so a mean that looks fine over all photos cannot hide a group that is whitened or darkened.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from toonkit.metrics.base import EvalContext, Metric, eroded_mask, mean_over_images
from toonkit.metrics.color import person_chunks

# (name, lower bound in degrees, exclusive upper bound); Del Bino et al. 2006
ITA_GROUPS: tuple[tuple[str, float, float], ...] = (
    ("very light", 55.0, math.inf),
    ("light", 41.0, 55.0),
    ("intermediate", 28.0, 41.0),
    ("tan", 10.0, 28.0),
    ("brown", -30.0, 10.0),
    ("dark", -math.inf, -30.0),
)
#: the YCbCr box of the skin rule, 8-bit units (Chai and Ngan 1999)
CB_RANGE = (77.0, 127.0)
CR_RANGE = (133.0, 173.0)
#: darker pixels than this luma (8-bit) are left out: in shadow and in black hair the chroma is noise
MIN_LUMA = 20.0
#: photos with fewer skin pixels than this share of the image get no skin values (NaN)
MIN_SKIN_SHARE = 0.002


def ita_group(ita: float) -> str | None:
    """The ITA° class of a skin colour (``None`` for NaN).

    Example:
        >>> ita_group(60.0), ita_group(30.0), ita_group(-45.0)
        ('very light', 'intermediate', 'dark')
    """
    if math.isnan(ita):
        return None
    for name, low, high in ITA_GROUPS:
        if low < ita <= high or (high == math.inf and ita > low):
            return name
    return ITA_GROUPS[-1][0]


def ita_degrees(lightness: Tensor, b_star: Tensor) -> Tensor:
    """Individual Typology Angle in degrees from CIELAB L* and b*: ``atan2(L* − 50, b*)``.

    For skin (b* > 0) this is the usual ``arctan((L* − 50) / b*)``; ``atan2`` keeps it defined at b* = 0.
    """
    return torch.rad2deg(torch.atan2(lightness - 50.0, b_star))


def skin_pixels(photos: Tensor, person: Tensor) -> Tensor:
    """The skin rule: person pixels whose photo colour lies in the YCbCr skin box.

    Args:
        photos: photos in [0, 1].
        person: person masks in {0, 1} (already eroded by the caller where wanted).

    Shape:
        - photos: :math:`(N, 3, H, W)`, person: :math:`(N, 1, H, W)`; output :math:`(N, 1, H, W)` in {0, 1}.

    Example:
        >>> skin = torch.tensor([0.80, 0.60, 0.50]).view(1, 3, 1, 1)   # a light skin colour
        >>> sky = torch.tensor([0.30, 0.50, 0.90]).view(1, 3, 1, 1)
        >>> person = torch.ones(1, 1, 1, 1)
        >>> float(skin_pixels(skin, person)), float(skin_pixels(sky, person))
        (1.0, 0.0)
    """
    from kornia.color import rgb_to_ycbcr

    ycc = rgb_to_ycbcr(photos.float()) * 255.0
    y, cb, cr = ycc[:, 0:1], ycc[:, 1:2], ycc[:, 2:3]
    rule = ((cb >= CB_RANGE[0]) & (cb <= CB_RANGE[1]) & (cr >= CR_RANGE[0]) & (cr <= CR_RANGE[1])
            & (y >= MIN_LUMA))
    return rule.float() * (person > 0).float()


@dataclass
class SkinShift:
    """Per-photo skin values (each :math:`(N,)`, NaN where a photo shows too little skin)."""

    ita: Tensor  # the photo's ITA° (from the mean L*, b* of its skin)
    d_lightness: Tensor  # mean ΔL*, translation − photo, on the same pixels
    d_a: Tensor
    d_b: Tensor
    d_ita: Tensor
    share: Tensor  # skin pixels / image pixels


def skin_shift(inputs: Tensor, outputs: Tensor, masks: Tensor | None, device: torch.device | str = "cpu",
               erode: int = 5, batch_size: int = 16) -> SkinShift:
    """Skin colour of each photo and how its translation moved it (see :class:`SkinTone`).

    Shape:
        - inputs: :math:`(N, 3, H, W)` in [-1, 1]; outputs any size (resized to the photo's);
          masks :math:`(N, 1, H, W)` in [0, 1] or ``None`` (the whole image is the person).
    """
    from kornia.color import rgb_to_lab

    parts: dict[str, list[Tensor]] = {k: [] for k in ("ita", "dl", "da", "db", "dita", "share")}
    for x, y, m in person_chunks(inputs, outputs, masks, device, batch_size):
        skin = skin_pixels(x, eroded_mask(m, erode))
        count = skin.flatten(1).sum(1)
        share = count / skin[0].numel()
        lab_x = (rgb_to_lab(x) * skin).flatten(2).sum(2) / count.clamp_min(1)[:, None]
        lab_y = (rgb_to_lab(y) * skin).flatten(2).sum(2) / count.clamp_min(1)[:, None]
        ita_x = ita_degrees(lab_x[:, 0], lab_x[:, 2])
        ita_y = ita_degrees(lab_y[:, 0], lab_y[:, 2])
        valid = share >= MIN_SKIN_SHARE
        nan = torch.full_like(share, float("nan"))
        for key, value in (("ita", ita_x), ("dl", lab_y[:, 0] - lab_x[:, 0]), ("da", lab_y[:, 1] - lab_x[:, 1]),
                           ("db", lab_y[:, 2] - lab_x[:, 2]), ("dita", ita_y - ita_x)):
            parts[key].append(torch.where(valid, value, nan).cpu())
        parts["share"].append(share.cpu())
    cat = {k: torch.cat(v) for k, v in parts.items()}
    return SkinShift(cat["ita"], cat["dl"], cat["da"], cat["db"], cat["dita"], cat["share"])


class SkinTone(Metric):
    """How a method moves skin colour, per photo and per ITA° skin-tone group.

    Skin pixels are the person mask (eroded by ``erode`` px, so the outline does not count) intersected
    with a colour rule on the **photo**: 77 ≤ Cb ≤ 127 and 133 ≤ Cr ≤ 173 (8-bit YCbCr, Chai and Ngan
    1999), luma ≥ 20. The same pixels are read in the translation (resized to the photo's size), and the
    mean CIELAB (D65, kornia) colour of each is compared: ``skin_dL*``, ``skin_da*``, ``skin_db*`` are
    translation − photo, ``skin_dITA`` the change of the Individual Typology Angle. Positive ``skin_dL*``:
    lighter skin. A photo with less than 0.2 % skin pixels has no values.

    The photo's own ITA° (from the mean L* and b* of its skin) is recorded per photo as ``skin_ITA``;
    the bench report groups the per-photo values by the six ITA° classes of Del Bino et al. (very light
    > 55°, light 41–55°, intermediate 28–41°, tan 10–28°, brown −30–10°, dark < −30°) with each group's
    photo count and interval (:data:`ITA_GROUPS`, :func:`ita_group`). The columns here are means over
    all photos; a small overall mean can hide opposite shifts in two groups, so read the groups.

    The rule is a colour box: it misses skin under strongly coloured light and accepts skin-coloured
    clothes or hair inside the person mask; it is applied only inside the mask for that reason.

    Args:
        erode: side of the square erosion of the person mask, in pixels (1: none).
        batch_size: images processed at once.

    Example:
        >>> photos = torch.tensor([0.80, 0.60, 0.50]).view(1, 3, 1, 1).expand(2, 3, 8, 8) * 2 - 1
        >>> lighter = (photos + 0.2).clamp(-1, 1)
        >>> row = SkinTone(erode=1)(EvalContext(inputs=photos, outputs=lighter, masks=torch.ones(2, 1, 8, 8)))
        >>> row["skin_dL*"] > 5
        True
    """

    name = "skin_tone"
    higher_is_better = None  # signed shifts: 0 is best, so a filter that darkens skin cannot rank first
    requires = ("inputs",)
    COLUMNS = ("skin_dL*", "skin_da*", "skin_db*", "skin_dITA")

    def __init__(self, erode: int = 5, batch_size: int = 16) -> None:
        self.erode = erode
        self.batch_size = batch_size

    def columns(self) -> tuple[str, ...]:
        return self.COLUMNS

    def compute(self, ctx: EvalContext) -> dict[str, float]:
        shift = skin_shift(ctx.inputs, ctx.get_outputs(self.batch_size), ctx.masks, ctx.device, self.erode,
                           self.batch_size)
        ctx.record("skin_ITA", shift.ita)
        values = dict(zip(self.COLUMNS, (shift.d_lightness, shift.d_a, shift.d_b, shift.d_ita)))
        return {col: mean_over_images(ctx.record(col, v), self.name) for col, v in values.items()}
