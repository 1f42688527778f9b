"""Every built-in network, feature and loss: build from its defaults, run forward and backward (timm-style).

Parametrised over the registry, so a newly registered component is tested without editing this file; a
loss declares its example inputs beside its code (``example_inputs``, the component protocol), so a new
loss needs no entry here. Third-party plugins' components are left to their own tests (they may be
frozen, e.g. a TFLite teacher).
"""
from __future__ import annotations

import math
from typing import Any

import pytest
import torch

import toonkit
from toonkit.protocols import loss_example, size_multiple

NET_KINDS = ("generator", "discriminator", "masker", "feature")

# Defaults that need something a test machine lacks: ImageNet VGG19 cannot be downloaded offline.
BUILD_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("feature", "vgg"): {"weights": "random"},
}


def _builtin(kind: str) -> list[str]:
    return [e.name for e in toonkit.list_components(kind) if e.plugin == "builtin"]


def _build(kind: str, name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return toonkit.build(kind, name, **BUILD_OVERRIDES.get((kind, name), {}))


def _image(n: int, size: int) -> torch.Tensor:
    return (torch.rand(n, 3, size, size) * 2 - 1).requires_grad_(True)


def _test_size(module: torch.nn.Module) -> int:
    return math.lcm(size_multiple(module), 32)


def _assert_grads(module: torch.nn.Module, x: torch.Tensor) -> None:
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    trainable = [p for p in module.parameters() if p.requires_grad]
    assert trainable, "a trainable network has no trainable parameters"
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainable)


@pytest.mark.parametrize("kind", ["generator", "masker"])
def test_size_multiple_is_declared(kind: str) -> None:
    for name in _builtin(kind):
        cls = toonkit.get_registry().get(kind, name).factory
        assert isinstance(getattr(cls, "size_multiple", None), int), f"{kind} {name} lacks size_multiple"


@pytest.mark.parametrize("name", _builtin("generator"))
def test_generator_defaults(name: str) -> None:
    g = _build("generator", name).train()
    size = _test_size(g)
    x = _image(1 if size > 64 else 2, size)
    y = g(x)
    assert y.shape == x.shape
    assert y.min() >= -1 and y.max() <= 1 and y.std() > 0
    y.square().mean().backward()
    _assert_grads(g, x)


@pytest.mark.parametrize("name", _builtin("discriminator"))
def test_discriminator_defaults(name: str) -> None:
    d = _build("discriminator", name).train()
    x = _image(2, 64)
    logits = d(x)
    assert logits.dim() == 4 and logits.shape[:2] == (2, 1) and logits.shape[-1] >= 1
    assert torch.isfinite(logits).all() and logits.std() > 0
    logits.mean().backward()
    _assert_grads(d, x)


@pytest.mark.parametrize("name", _builtin("masker"))
def test_masker_defaults(name: str) -> None:
    s = _build("masker", name).train()
    size = _test_size(s)
    x = _image(2, size)
    logits = s(x)
    assert logits.shape == (2, 1, size, size)
    assert torch.isfinite(logits).all()
    probs = torch.sigmoid(logits)
    assert 0 < probs.mean() < 1
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).backward()
    _assert_grads(s, x)


@pytest.mark.parametrize("name", _builtin("feature"))
def test_feature_defaults(name: str) -> None:
    f = _build("feature", name)
    f.train()
    assert not f.training, "feature extractors stay in eval mode"
    assert all(not p.requires_grad for p in f.parameters()), "feature extractors are frozen"
    x = _image(1, 32)
    out = f(x)
    maps = list(out.values()) if isinstance(out, dict) else [out]
    for m in maps:
        assert m.dim() == 4 and m.shape[0] == 1 and torch.isfinite(m).all()
    sum(m.abs().mean() for m in maps).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in f.parameters())


def test_every_loss_declares_its_example() -> None:
    """A loss says what to call it with, beside its code (the component protocol), as plugins do."""
    missing = [name for name in _builtin("loss") if loss_example(toonkit.get_registry().get("loss", name).factory) is None]
    assert not missing, f"give these losses an example_inputs(size, batch) staticmethod: {missing}"


@pytest.mark.parametrize("name", _builtin("loss"))
def test_loss_defaults(name: str) -> None:
    loss_fn = _build("loss", name)
    assert isinstance(loss_fn, torch.nn.Module)
    assert not list(loss_fn.parameters()), "losses are unweighted and parameter-free"
    example = loss_example(loss_fn)
    if example is None:
        pytest.fail(f"loss {name!r} declares no example_inputs")
    torch.manual_seed(0)
    args = example(8, 2)
    value = loss_fn(*args)
    assert value.dim() == 0 and value.dtype == torch.float32
    assert torch.isfinite(value) and value > 0
    value.backward()
    leaves = [t for a in args for t in (a if isinstance(a, (list, tuple)) else [a])
              if isinstance(t, torch.Tensor) and t.requires_grad]
    assert leaves and all(t.grad is not None and t.grad.abs().sum() > 0 for t in leaves)
