"""The registered augmenters: built without arguments, documented, and on their input's device."""
from __future__ import annotations

import pytest
import torch

from toonkit.augment import DiffAugment, EdgeSmooth, Outline, register
from toonkit.registry import Registry


def test_registered_and_buildable_without_arguments() -> None:
    reg = Registry()
    register(reg)
    names = {e.name for e in reg.list("augmenter")}
    assert names == {"diff_augment", "edge_smooth", "outline", "style_jitter"}
    for e in reg.list("augmenter"):
        assert e.summary and all(p.default is not p.REQUIRED for p in e.params)
        for p in e.params:
            assert p.annotation is not None
    x = torch.rand(2, 3, 40, 40) * 2 - 1
    assert reg.build("augmenter", "edge_smooth").__class__ is EdgeSmooth
    assert reg.build("augmenter", "outline")(x).shape == x.shape
    assert reg.build("augmenter", "outline").__class__ is Outline
    jittered = reg.build("augmenter", "style_jitter")(x)
    assert jittered.shape == x.shape and not torch.equal(jittered, x)
    augmented = reg.build("augmenter", "diff_augment")(x)
    assert augmented.shape == x.shape and not torch.equal(augmented, x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_inputs_stay_on_cuda() -> None:
    x = torch.rand(2, 3, 48, 64, device="cuda") * 2 - 1
    assert Outline()(x).is_cuda and EdgeSmooth()(x).is_cuda
    assert DiffAugment()(x).is_cuda
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert Outline()(x).shape == x.shape and EdgeSmooth()(x).shape == x.shape
