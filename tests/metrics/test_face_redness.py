"""face_redness: the a* shift on the person, the paper's 'faces fill with red' as a number."""
from __future__ import annotations

import torch

import toonkit
from toonkit.metrics import EvalContext


def _photos() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    photos = torch.rand(3, 3, 24, 24, generator=g) * 1.2 - 0.6
    masks = torch.zeros(3, 1, 24, 24)
    masks[:, :, 4:20, 6:18] = 1
    return photos, masks


def test_red_tint_on_the_person_raises_it_and_background_red_does_not() -> None:
    photos, masks = _photos()
    metric = toonkit.build("metric", "face_redness", erode=3)
    assert abs(metric(EvalContext(inputs=photos, outputs=photos, masks=masks))["da*"]) < 1e-4
    red_person = photos.clone()
    red_person[:, 0] = torch.where(masks[:, 0] > 0, (photos[:, 0] + 0.4).clamp(-1, 1), photos[:, 0])
    red_background = photos.clone()
    red_background[:, 0] = torch.where(masks[:, 0] > 0, photos[:, 0], torch.ones_like(photos[:, 0]))
    person = metric(EvalContext(inputs=photos, outputs=red_person, masks=masks))["da*"]
    background = metric(EvalContext(inputs=photos, outputs=red_background, masks=masks))["da*"]
    assert person > 5
    assert abs(background) < 1e-4  # the eroded mask keeps the outline's mixed pixels out
    green = photos.clone()
    green[:, 1] = (photos[:, 1] + 0.4).clamp(-1, 1)
    assert metric(EvalContext(inputs=photos, outputs=green, masks=masks))["da*"] < -5


def test_per_photo_values_are_recorded_for_intervals() -> None:
    photos, masks = _photos()
    out = photos.clone()
    out[0, 0] = (out[0, 0] + 0.5).clamp(-1, 1)  # only the first photo gets redder
    ctx = EvalContext(inputs=photos, outputs=out, masks=masks)
    toonkit.build("metric", "face_redness")(ctx)
    values = ctx.per_image["da*"]
    assert values.shape == (3,) and values[0] > 5 and values[1:].abs().max() < 1e-4
