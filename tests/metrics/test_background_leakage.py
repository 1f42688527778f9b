"""Background leakage on translate functions whose dependence on the background is known."""
from __future__ import annotations

import math

import pytest
import torch

from toonkit.metrics import BackgroundLeakage, EvalContext, composite_backgrounds
from toonkit.metrics.leakage import DEFAULT_FILLS, make_fill


def test_composites_keep_person_and_replace_background(portraits) -> None:
    images, masks = portraits
    comp = composite_backgrounds(images, masks, DEFAULT_FILLS)
    assert comp.shape == (4, len(DEFAULT_FILLS), 3, 64, 64)
    person = (masks > 0.5).unsqueeze(1).expand_as(comp)
    assert torch.equal(comp[person], images.unsqueeze(1).expand_as(comp)[person])
    red = comp[:, DEFAULT_FILLS.index("red")]
    assert torch.equal(red[:, 0][masks[:, 0] == 0], torch.ones_like(red[:, 0][masks[:, 0] == 0]))
    # the texture is deterministic and not flat
    assert torch.equal(make_fill("texture", 16, 16), make_fill("texture", 16, 16))
    assert make_fill("texture", 16, 16).std() > 0.3


def test_identity_translate_has_zero_leakage(portraits) -> None:
    images, masks = portraits
    ctx = EvalContext(inputs=images, masks=masks, translate=lambda x: x)
    assert BackgroundLeakage()(ctx) == {"leakage": 0.0, "leakage_rel": 0.0}
    assert ctx.per_image["leakage"].shape == (4,)  # kept for the bench's bootstrap intervals


def test_a_method_that_ignores_its_input_does_not_win(portraits) -> None:
    """A constant grey output has no leakage, but its normalised leakage is undefined, not perfect."""
    images, masks = portraits
    grey = BackgroundLeakage()(EvalContext(inputs=images, masks=masks, translate=torch.zeros_like))
    assert grey["leakage"] == 0.0 and math.isnan(grey["leakage_rel"])


def test_normalised_leakage_is_scale_free(portraits) -> None:
    """Damping a leaky method's output towards grey lowers raw leakage, never the normalised value."""
    images, masks = portraits

    def tint(x: torch.Tensor) -> torch.Tensor:
        return 0.7 * x + 0.3 * x.mean(dim=(2, 3), keepdim=True)

    full = BackgroundLeakage()(EvalContext(inputs=images, masks=masks, translate=tint))
    damped = BackgroundLeakage()(EvalContext(inputs=images, masks=masks, translate=lambda x: 0.1 * tint(x)))
    assert damped["leakage"] < 0.2 * full["leakage"]
    assert damped["leakage_rel"] == pytest.approx(full["leakage_rel"], rel=1e-3)
    assert 0 < full["leakage_rel"] < 1
    assert BackgroundLeakage(normalise=False).columns() == ("leakage",)


def test_local_filter_leaks_only_at_the_outline(portraits) -> None:
    images, masks = portraits
    # a 3x3 blur mixes background into the person's outermost pixel ring only: erosion excludes it
    blur = torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    ctx = EvalContext(inputs=images, masks=masks, translate=blur)
    assert BackgroundLeakage(erode=7)(ctx)["leakage"] < 1e-6
    assert BackgroundLeakage(erode=1)(ctx)["leakage"] > 1e-3


def test_painting_with_background_colour_leaks(portraits, paint) -> None:
    images, masks = portraits
    leak = BackgroundLeakage()(EvalContext(inputs=images, masks=masks, translate=paint))["leakage"]
    # the person takes each fill's colour: std across red/green/blue/white/black/texture is large
    assert leak > 0.3


def test_partial_tint_leaks_proportionally(portraits) -> None:
    images, masks = portraits

    def tint(x: torch.Tensor, amount: float) -> torch.Tensor:  # mix in the global mean colour
        return (1 - amount) * x + amount * x.mean(dim=(2, 3), keepdim=True)

    ctx = {"inputs": images, "masks": masks}
    small = BackgroundLeakage()(EvalContext(**ctx, translate=lambda x: tint(x, 0.1)))["leakage"]
    large = BackgroundLeakage()(EvalContext(**ctx, translate=lambda x: tint(x, 0.5)))["leakage"]
    assert 0 < small < large
    assert large == pytest.approx(5 * small, rel=1e-4)  # the spread is linear in the mixing amount


def test_batching_does_not_change_the_value(portraits, paint) -> None:
    images, masks = portraits
    ctx = EvalContext(inputs=images, masks=masks, translate=paint)
    a = BackgroundLeakage(batch_size=1)(ctx)["leakage"]
    b = BackgroundLeakage(batch_size=24)(ctx)["leakage"]
    assert a == pytest.approx(b, rel=1e-6)


def test_fills_are_validated_and_inputs_required(portraits) -> None:
    with pytest.raises(ValueError, match="unknown background fill"):
        BackgroundLeakage(fills=["red", "purple"])
    with pytest.raises(ValueError, match="at least two"):
        BackgroundLeakage(fills=["red"])
    images, _ = portraits
    with pytest.raises(ValueError, match="EvalContext.masks"):
        BackgroundLeakage()(EvalContext(inputs=images, translate=lambda x: x))


def test_empty_foreground_is_an_error(portraits) -> None:
    images, _ = portraits
    tiny = torch.zeros(4, 1, 64, 64)
    tiny[..., 30:33, 30:33] = 1  # gone after a 7-px erosion
    with pytest.raises(ValueError, match="no image has foreground"):
        BackgroundLeakage()(EvalContext(inputs=images, masks=tiny, translate=lambda x: x))
