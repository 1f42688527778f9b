"""The discriminator's differentiable augmentation: whole-pixel shifts and a cutout square per image."""
from __future__ import annotations

import pytest
import torch

import toonkit
from toonkit.augment import DiffAugment


def _distinct(n: int = 8, size: int = 16) -> torch.Tensor:
    """Images whose every pixel value occurs once, away from the fill (0)."""
    values = torch.linspace(0.01, 1.0, n * 3 * size * size)
    return values[torch.randperm(values.numel())].view(n, 3, size, size)


def test_shifts_move_whole_pixels_and_never_blur() -> None:
    torch.manual_seed(0)
    x = _distinct()
    out = DiffAugment(translation=0.25, cutout=0.0)(x)
    kept = out[out != 0]
    # nearest sampling: every output pixel is one of the input's, or the fill where nothing was shifted in
    assert torch.isin(kept, x).all()
    assert not torch.equal(out, x) and (out == 0).any()


def test_each_image_gets_its_own_transform() -> None:
    torch.manual_seed(0)
    same = _distinct(n=1).expand(8, -1, -1, -1).contiguous()
    out = DiffAugment()(same)
    assert len({tuple(o.flatten()[:64].tolist()) + (int((o == 0).sum()),) for o in out}) > 1


def test_the_cutout_square_takes_a_quarter_of_the_image_and_no_gradient() -> None:
    torch.manual_seed(0)
    x = _distinct(n=4, size=32).requires_grad_()
    out = DiffAugment(translation=0.0, cutout=0.5, fill=0.0)(x)
    holes = (out == 0).all(dim=1)
    assert holes.flatten(1).sum(1).tolist() == [16 * 16] * 4
    out.sum().backward()
    assert x.grad is not None
    assert bool((x.grad[:, 0][holes] == 0).all()) and bool((x.grad[:, 0][~holes] == 1).all())


def test_the_fill_value_is_used_and_dtype_kept() -> None:
    torch.manual_seed(0)
    out = DiffAugment(translation=0.0, cutout=0.5, fill=-1.0)(torch.ones(2, 3, 16, 16, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16
    assert set(out.unique().tolist()) == {-1.0, 1.0}


def test_identity_when_p_is_zero_and_registered() -> None:
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.equal(toonkit.build("augmenter", "diff_augment", p=0.0)(x), x)


@pytest.mark.parametrize("kwargs", [{"translation": 1.0}, {"cutout": -0.1}, {"fill": 2.0}, {"p": 1.5}])
def test_bad_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="DiffAugment: need"):
        DiffAugment(**kwargs)


def test_an_image_batch_is_required() -> None:
    with pytest.raises(ValueError, match="N×C×H×W"):
        DiffAugment()(torch.zeros(3, 8, 8))
