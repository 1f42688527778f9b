"""Kornia-based augmenters: an image and its mask get the same crop/flip; colour jitter spares masks."""
from __future__ import annotations

import pytest
import torch

from toonkit.augment import ColorJitter, EdgeSmooth, Geometric, Outline, register
from toonkit.registry import Registry


def _image_with_mask(n: int = 6, h: int = 48, w: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Images whose red channel *is* the mask (scaled to [-1, 1]): consistency is checkable after."""
    g = torch.Generator().manual_seed(0)
    mask = torch.zeros(n, 1, h, w)
    for i in range(n):
        top, left = torch.randint(0, h // 2, (2,), generator=g).tolist()
        mask[i, :, top:top + h // 3, left:left + w // 4] = 1.0
    mask[:, :, :, :3] = 0.5  # a soft band on the left: flips must move it
    x = torch.cat([mask * 2 - 1, torch.rand(n, 2, h, w, generator=g) * 2 - 1], 1)
    return x, mask


@pytest.mark.parametrize("kwargs", [{"size": 32}, {"size": 32, "load_size": 40}, {"size": 24, "hflip": 1.0},
                                    {"size": 32, "random_crop": False, "hflip": 0.0}])
def test_image_and_mask_get_identical_geometry(kwargs: dict) -> None:
    torch.manual_seed(1)
    x, mask = _image_with_mask()
    out, out_mask = Geometric(**kwargs)(x, mask)
    size = kwargs["size"]
    assert out.shape == (6, 3, size, size) and out_mask.shape == (6, 1, size, size)
    assert out_mask.min() >= 0 and out_mask.max() <= 1
    # the red channel was the mask: after augmentation they must still agree
    assert (out[:, :1] - (out_mask * 2 - 1)).abs().max() < 0.02


def test_crops_differ_between_images_and_calls() -> None:
    torch.manual_seed(0)
    x, _mask = _image_with_mask()
    x = x[:1].expand(8, -1, -1, -1)
    aug = Geometric(size=24, load_size=48)
    out = aug(x)
    assert isinstance(out, torch.Tensor) and out.shape == (8, 3, 24, 24)
    assert len({tuple(o[1].flatten()[:50].tolist()) for o in out}) > 1  # per-image parameters


def test_flip_is_applied_to_both() -> None:
    x, mask = _image_with_mask(n=2, h=48, w=48)
    out, out_mask = Geometric(size=48, load_size=48, hflip=1.0, random_crop=False)(x, mask)
    assert (out_mask[:, :, :, -3:] == 0.5).all()  # the soft band moved to the right
    assert (out[:, 0, :, -3:] - 0.0).abs().max() < 1e-5


def test_color_jitter_keeps_mask_and_range() -> None:
    torch.manual_seed(0)
    x, mask = _image_with_mask()
    out, out_mask = ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1)(x, mask)
    assert torch.equal(out_mask, mask)
    assert out.shape == x.shape and out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6
    assert not torch.allclose(out, x)
    assert isinstance(ColorJitter()(x), torch.Tensor)


def test_differentiable() -> None:
    x, _mask = _image_with_mask(n=2)
    x.requires_grad_(True)
    out = Geometric(size=32)(x)
    out2 = ColorJitter()(out)
    out2.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_mask_shape_mismatch_is_an_error() -> None:
    x, mask = _image_with_mask(n=2)
    with pytest.raises(ValueError, match="mask"):
        Geometric(size=32)(x, mask[:, :, :10])
    with pytest.raises(ValueError):
        Geometric(size=32, load_size=16)


def test_registered_and_buildable_without_arguments() -> None:
    reg = Registry()
    register(reg)
    names = {e.name for e in reg.list("augmenter")}
    assert names == {"edge_smooth", "outline"}  # geometric and color_jitter: classes only, no trainer slot
    for e in reg.list("augmenter"):
        assert e.summary and all(p.default is not p.REQUIRED for p in e.params)
        for p in e.params:
            assert p.annotation is not None
    x = torch.rand(2, 3, 40, 40) * 2 - 1
    assert reg.build("augmenter", "edge_smooth").__class__ is EdgeSmooth
    assert reg.build("augmenter", "outline")(x).shape == x.shape
    assert reg.build("augmenter", "outline").__class__ is Outline
    assert Geometric(size=32)(x).shape == (2, 3, 32, 32)
    assert ColorJitter()(x).shape == x.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_inputs_stay_on_cuda() -> None:
    x, mask = _image_with_mask(n=2)
    x, mask = x.cuda(), mask.cuda()
    out, out_mask = Geometric(size=32)(x, mask)
    assert out.is_cuda and out_mask.is_cuda
    assert (out[:, :1] - (out_mask * 2 - 1)).abs().max() < 0.02
    assert ColorJitter()(x).is_cuda and Outline()(x).is_cuda and EdgeSmooth()(x).is_cuda
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert Outline()(x).shape == x.shape and EdgeSmooth()(x).shape == x.shape
