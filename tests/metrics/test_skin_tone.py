"""The skin-tone metric: which pixels are skin, the ITA° groups, and the shifts it reports."""
from __future__ import annotations

import math

import pytest
import torch

import toonkit
from toonkit.metrics import EvalContext
from toonkit.metrics.skin import ITA_GROUPS, ita_degrees, ita_group, skin_pixels, skin_shift

# sRGB skin colours of increasing depth (light to dark) and colours that are not skin
SKINS = {"very light": (0.93, 0.80, 0.72), "light": (0.87, 0.69, 0.58), "tan": (0.76, 0.55, 0.40),
         "brown": (0.55, 0.36, 0.25), "dark": (0.30, 0.19, 0.14)}
NOT_SKIN = {"sky": (0.35, 0.55, 0.90), "grass": (0.30, 0.60, 0.25), "black hair": (0.05, 0.04, 0.04)}


def _image(rgb: tuple[float, float, float], size: int = 16) -> torch.Tensor:
    return (torch.tensor(rgb).view(1, 3, 1, 1).expand(1, 3, size, size) * 2 - 1).contiguous()


@pytest.mark.parametrize("name", list(SKINS))
def test_skin_colours_of_every_depth_are_skin(name: str) -> None:
    x = (_image(SKINS[name]) + 1) / 2
    assert float(skin_pixels(x, torch.ones(1, 1, 16, 16)).mean()) == 1.0


@pytest.mark.parametrize("name", list(NOT_SKIN))
def test_other_colours_are_not_skin(name: str) -> None:
    x = (_image(NOT_SKIN[name]) + 1) / 2
    assert float(skin_pixels(x, torch.ones(1, 1, 16, 16)).mean()) == 0.0


def test_only_pixels_inside_the_person_mask_count() -> None:
    x = (_image(SKINS["tan"]) + 1) / 2
    person = torch.zeros(1, 1, 16, 16)
    person[..., :8] = 1
    assert float(skin_pixels(x, person).sum()) == 16 * 8


def test_ita_orders_skin_from_light_to_dark() -> None:
    from kornia.color import rgb_to_lab

    itas = []
    for rgb in SKINS.values():
        lab = rgb_to_lab(torch.tensor(rgb).view(1, 3, 1, 1))
        itas.append(float(ita_degrees(lab[0, 0], lab[0, 2])))
    assert itas == sorted(itas, reverse=True)
    assert ita_group(itas[0]) == "very light" and ita_group(itas[-1]) == "dark"


def test_ita_groups_cover_the_line_with_the_published_bounds() -> None:
    assert [ita_group(v) for v in (56, 55, 41.5, 41, 30, 20, 0, -29.9, -30, -60)] == [
        "very light", "light", "light", "intermediate", "intermediate", "tan", "brown", "brown", "dark", "dark"]
    assert ita_group(math.nan) is None and [g[0] for g in ITA_GROUPS][0] == "very light"


def test_a_lighter_output_reports_positive_dl_and_the_photo_ita() -> None:
    photos = torch.cat([_image(SKINS["brown"]), _image(SKINS["light"])])
    lighter = (photos + 0.25).clamp(-1, 1)
    ctx = EvalContext(inputs=photos, outputs=lighter, masks=torch.ones(2, 1, 16, 16))
    row = toonkit.build("metric", "skin_tone", erode=1)(ctx)
    assert row["skin_dL*"] > 5 and row["skin_dITA"] > 3
    groups = [ita_group(float(v)) for v in ctx.per_image["skin_ITA"]]
    assert groups == ["brown", "light"]
    same = toonkit.build("metric", "skin_tone", erode=1)(EvalContext(inputs=photos, outputs=photos,
                                                                    masks=torch.ones(2, 1, 16, 16)))
    assert all(abs(v) < 1e-4 for v in same.values())


def test_a_photo_without_skin_has_no_value() -> None:
    photos = torch.cat([_image(NOT_SKIN["sky"]), _image(SKINS["tan"])])
    shift = skin_shift(photos, photos, torch.ones(2, 1, 16, 16), erode=1)
    assert math.isnan(float(shift.ita[0])) and math.isfinite(float(shift.ita[1]))
    assert float(shift.share[0]) == 0.0
