"""Test helpers for plugin authors: pytest fixtures and a check that a plugin's components work.

Enable the fixtures in a plugin's ``tests/conftest.py``::

    pytest_plugins = ["toonkit.testing"]

and check every component the plugin registers in one test::

    from toonkit.testing import check_plugin_components

    def test_components():
        check_plugin_components("my_plugin.plugin")

Fixtures:
    ``toonkit_demo``: a tiny synthetic dataset (4 images per domain, 32²) made once per session by
        :func:`toonkit.data.demo.make_demo`; the value is what ``make_demo`` returns (name → path).
    ``toonkit_registry``: a fresh registry holding only toonkit's built-in components.
    ``toonkit_registry_factory``: ``make(*plugins, builtin=True)`` → a fresh registry loaded with the
        built-in plugin and the given plugin modules (or import paths, or installed plugin names).

None of them reads or changes the process-wide registry that :func:`toonkit.build` uses.
"""
from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from toonkit.plugins.isolated import PluginLike, isolated_registry, resolve_plugin
from toonkit.protocols import batch_example, is_trainable, loss_example
from toonkit.registry import Entry, Registry

__all__ = ["CheckReport", "check_component", "check_plugin_components", "isolated_registry",
           "resolve_plugin"]


# -- checking components ---------------------------------------------------------------------------
@dataclass
class CheckReport:
    """Outcome of :func:`check_plugin_components`: ``"kind/name" -> what was checked``."""

    plugin: str
    checked: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"plugin '{self.plugin}': {len(self.checked)} ok, {len(self.failures)} failed"]
        lines += [f"  ok    {k}: {v}" for k, v in self.checked.items()]
        lines += [f"  FAIL  {k}: {v}" for k, v in self.failures.items()]
        return "\n".join(lines)


IMAGE_KINDS = ("generator", "discriminator", "masker", "feature")


def check_plugin_components(plugin: PluginLike, size: int = 32, *, batch: int = 2,
                            skip: Iterable[str] = (), device: str | torch.device = "cpu",
                            registry: Registry | None = None,
                            sizes: dict[str, int] | None = None,
                            slots: dict[str, dict[str, Any]] | None = None) -> CheckReport:
    """Build every component ``plugin`` registers with its defaults and run it forward and backward.

    What "runs" means per kind:

    - ``generator``, ``discriminator``, ``masker``, ``feature``: called on ``batch`` images of
      ``size``² in ``[-1, 1]``; every output tensor must be finite; a generator must return images of
      the input's batch and channels, a masker ``(N, 1, size, size)`` logits. Backward goes from the
      mean of the outputs to the parameters (each trainable parameter must get a finite gradient) or,
      for networks without trainable parameters (frozen features, a TFLite masker with
      ``trainable = False``), to the input where the output carries a graph.
    - ``loss``: called with tensors for its required positional arguments — the component's
      ``example_inputs(size, batch)`` when it defines one, else images in ``[0, 1]`` (valid as images,
      masks and logits) for tensor arguments and ``True`` for ``bool`` ones; the result must be a finite
      scalar and its gradient must reach the inputs.
    - ``augmenter``: called on images; the output must be finite and keep the batch.
    - ``method``: every slot default is built from the registry (a slot without a default must be
      optional), then ``train_step`` runs once per phase on a synthetic batch (``photo``, ``cartoon``,
      ``mask``; or the method's ``example_batch(phase, size, batch)``) with a context whose
      ``optimize(group, loss)`` checks the loss is finite, back-propagates, checks the group's
      gradients, and takes an Adam step.
    - ``face_detector``: ``detect`` on ``batch`` images returns one list of
      :class:`~toonkit.nets.face_detectors.Face` per image.
    - ``metric`` and kinds a plugin adds itself: built only.

    Args:
        plugin: plugin module, import path or installed plugin name.
        size: image size for the synthetic inputs (keep it small; 32 suits most networks).
        batch: images per synthetic batch.
        skip: ``"kind/name"`` entries not to check.
        device: where to run.
        registry: the registry to read (default: an isolated one with builtin + ``plugin``).
        sizes: image size per ``"kind/name"`` for components that need another (``{"generator/unet": 256}``).
        slots: blocks replacing methods' slot defaults, by ``"section.slot"``: ``{"nets.feature":
            {"arch": "vgg16", "layer": "conv4_3", "weights": "random"}}`` (a ``type`` key changes the
            component; other keys are its parameters, merged over the slot's defaults as in a recipe).

    Returns:
        A :class:`CheckReport` listing what was checked.

    Raises:
        AssertionError: listing every component that failed (all are tried first), or when the plugin
            registers nothing.
    """
    name, obj = resolve_plugin(plugin)
    if registry is None:
        from toonkit.plugins import builtin, load_plugin_objects

        registry, _ = load_plugin_objects({} if obj is builtin else {name: obj}, strict=True)
    entries = [e for e in registry if e.plugin == name]
    if not entries:
        raise AssertionError(f"plugin '{name}' registered no components")
    report = CheckReport(name)
    skipped = set(skip)
    for entry in entries:
        key = f"{entry.kind}/{entry.name}"
        if key in skipped:
            continue
        try:
            report.checked[key] = check_component(entry, (sizes or {}).get(key, size), batch=batch,
                                                  device=device, registry=registry, slots=slots)
        except Exception as exc:  # noqa: BLE001 - collect every failure, then report them together
            report.failures[key] = f"{type(exc).__name__}: {exc}"
    if report.failures:
        raise AssertionError(str(report))
    return report


def check_component(entry: Entry, size: int = 32, *, batch: int = 2, device: str | torch.device = "cpu",
                    registry: Registry | None = None,
                    slots: dict[str, dict[str, Any]] | None = None) -> str:
    """Check one registered component (see :func:`check_plugin_components`); returns what was checked."""
    device = torch.device(device)
    torch.manual_seed(0)
    obj = entry.build()
    if entry.kind == "method":
        return _check_method(obj, size, batch, device, registry, slots or {})
    if entry.kind == "model":
        return _check_model(obj, size, device)
    if isinstance(obj, nn.Module):
        obj = obj.to(device)
    if entry.kind in IMAGE_KINDS:
        return _check_image_net(entry.kind, obj, size, batch, device)
    if entry.kind == "loss":
        return _check_loss(obj, size, batch, device)
    if entry.kind == "face_detector":
        from toonkit.nets.face_detectors import Face

        found = obj.detect(_images(batch, max(size, 64), device))
        assert isinstance(found, list) and len(found) == batch, "detect must return one list per image"
        assert all(isinstance(face, Face) for faces in found for face in faces), "detect must return Faces"
        return "built, detect"
    if entry.kind == "augmenter":
        x = _images(batch, size, device)
        out = obj(x)
        _assert_finite(out, "output")
        assert out.shape[0] == batch, f"augmenter changed the batch: {tuple(out.shape)}"
        return "built, forward"
    return "built"


def _check_model(model: Any, size: int, device: torch.device) -> str:
    """A pretrained model loads from its folder and translates an odd-sized photo to its own size."""
    from toonkit.protocols import model_folder
    from toonkit.translate.api import load

    folder = model_folder(model)
    assert folder is not None, f"a model component must have a folder, got {type(model).__name__}"
    toon = load(folder, device=device)
    photo = _images(1, size, device)[:, :, :, : size - 3]
    out = toon.translate(photo, size="original")
    _assert_finite(out, "translation")
    assert out.shape == photo.shape, f"translation {tuple(out.shape)}, expected {tuple(photo.shape)}"
    checked = "loaded, translated"
    if toon.has_masker:
        mask = toon.mask(photo)
        assert mask.shape == (1, 1, *photo.shape[-2:]), f"mask {tuple(mask.shape)}"
        checked += ", masked"
    return checked


def _images(batch: int, size: int, device: torch.device, channels: int = 3) -> Tensor:
    return torch.rand(batch, channels, size, size, device=device) * 2 - 1


def _tensors(out: Any) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for v in out.values() for t in _tensors(v)]
    if isinstance(out, (list, tuple)):
        return [t for v in out for t in _tensors(v)]
    return []


def _assert_finite(out: Any, what: str) -> None:
    tensors = _tensors(out)
    assert tensors, f"{what} holds no tensor (got {type(out).__name__})"
    for t in tensors:
        assert torch.isfinite(t.detach().float()).all(), f"{what} has non-finite values"


def _check_grads(module: nn.Module, what: str) -> int:
    params = [p for p in module.parameters() if p.requires_grad]
    missing = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{what}: no gradient reached {', '.join(missing[:5])}"
    for p in params:
        assert p.grad is not None and torch.isfinite(p.grad).all(), f"{what}: non-finite gradient"
    return len(params)


def _check_image_net(kind: str, net: nn.Module, size: int, batch: int, device: torch.device) -> str:
    trainable = is_trainable(net) and any(p.requires_grad for p in net.parameters())
    x = _images(batch, size, device).requires_grad_(not trainable)
    net.train(trainable)
    out = net(x)
    _assert_finite(out, "output")
    first = _tensors(out)[0]
    if kind == "generator":
        assert first.shape[:2] == (batch, 3), (
            f"generator output {tuple(first.shape)}, expected ({batch}, 3, …)")
    if kind == "masker":
        assert first.shape == (batch, 1, size, size), (
            f"masker output {tuple(first.shape)}, expected {(batch, 1, size, size)} logits")
    total = sum(t.float().mean() for t in _tensors(out) if t.requires_grad)
    if not isinstance(total, Tensor):
        return "built, forward (output carries no gradient: not trainable)"
    total.backward()
    if trainable:
        return f"built, forward, backward ({_check_grads(net, 'backward')} parameter tensors)"
    assert x.grad is not None and torch.isfinite(x.grad).all(), "no finite gradient reached the input"
    return "built, forward, backward to the input (no trainable parameters)"


def _check_loss(loss: Callable[..., Any], size: int, batch: int, device: torch.device) -> str:
    example = loss_example(loss)
    if example is not None:
        args = [_to(a, device) for a in example(size, batch)]
    else:
        args = _loss_args(loss, size, batch, device)
    inputs = [a for a in _tensors(args) if a.is_floating_point()]
    for a in inputs:
        a.requires_grad_(True)
    out = loss(*args)
    assert isinstance(out, Tensor) and out.numel() == 1, f"a loss must return a scalar tensor, got {out!r}"
    _assert_finite(out, "loss")
    out.backward()
    grads = [a.grad for a in inputs if a.grad is not None]
    assert grads, "the loss's gradient reaches none of its inputs"
    for grad in grads:
        assert torch.isfinite(grad).all(), "non-finite gradient"
    return f"built, forward, backward ({len(grads)} of {len(inputs)} inputs get gradients)"


def _to(value: Any, device: torch.device) -> Any:
    """A tensor (or a list or tuple of them) moved to ``device``; anything else as it is."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to(v, device) for v in value)
    return value


def _loss_args(loss: Callable[..., Any], size: int, batch: int, device: torch.device) -> list[Any]:
    fn = loss.forward if isinstance(loss, nn.Module) else loss
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable hints: fall back to tensors everywhere
        hints = {}
    args: list[Any] = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty:
            continue
        if hints.get(p.name) is bool:
            args.append(True)
        else:  # in [0, 1]: a valid image, mask, probability or logit alike
            args.append(torch.rand(batch, 3, size, size, device=device))
    return args


def _check_context(phase: str, step: int, groups: dict[str, nn.Module]) -> Any:
    """The trainer's own step context (:class:`toonkit.methods.context.StepContext`), with Adam per
    network and a check that each update's gradients reached every parameter of its network, finite."""
    from toonkit.methods.context import Group, StepContext
    from toonkit.recipe.schema import OptimSpec
    from toonkit.train.optim import make_group

    def check(name: str, group: Group) -> None:
        _check_grads(group.module, f"phase '{phase}', group '{name}'")

    made = {k: make_group(m, OptimSpec(lr=1e-4), total_steps=1) for k, m in groups.items()}
    return StepContext(phase, step, made, check=check)


def _check_method(method: nn.Module, size: int, batch: int, device: torch.device,
                  registry: Registry | None, overrides: dict[str, dict[str, Any]]) -> str:
    from toonkit.methods.assemble import assemble, default_recipe
    from toonkit.methods.base import SECTIONS, Method

    assert isinstance(method, Method), (
        f"a method must subclass toonkit.methods.base.Method, got {type(method)}")
    registry = registry or isolated_registry()
    cls = type(method)
    name = next(e.name for e in registry.list("method") if e.factory is cls)

    # the slot defaults resolved as a recipe would be, and built the way the trainer builds them
    def has_slot(key: str) -> bool:
        section, _, slot = key.partition(".")
        return section in SECTIONS and slot in cls.slots(section)

    own = {k: v for k, v in overrides.items() if has_slot(k)}  # a replacement applies where the slot exists
    method = assemble(default_recipe(name, own, registry), registry).to(device)
    if not type(method).trainable:
        photo = _images(batch, size, device)
        _assert_finite(method.translate(photo), "translation")
        return "built, translate"
    assert method.phases, "a trainable method must declare phases"
    ran = []
    for step, phase in enumerate(method.phases):
        if not method.phase_active(phase.name):
            continue
        for slot_name in phase.trains:
            assert slot_name in method.net, f"phase '{phase.name}' trains unknown net '{slot_name}'"
        ctx = _check_context(phase.name, step, {k: method.net[k] for k in phase.trains})
        method.train()
        example = batch_example(method)
        data = example(phase.name, size, batch) if example is not None else {
            "photo": _images(batch, size, device), "cartoon": _images(batch, size, device),
            "mask": (torch.rand(batch, 1, size, size, device=device) > 0.5).float()}
        logs = method.train_step({k: v.to(device) for k, v in data.items()}, ctx)
        assert ctx.stepped == set(phase.trains), (
            f"phase '{phase.name}' stepped {sorted(ctx.stepped)}, declared trains={list(phase.trains)}")
        _assert_finite(logs, f"phase '{phase.name}' logs")
        ran.append(phase.name)
    method.eval()
    with torch.no_grad():
        _assert_finite(method.translate(_images(batch, size, device)), "translation")
    return f"built with slot defaults, train_step on phases {', '.join(ran)}, translate"


# -- pytest fixtures (active with ``pytest_plugins = ["toonkit.testing"]``) --------------------------
try:
    import pytest
except ImportError:  # toonkit.testing's functions work without pytest; only the fixtures need it
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def toonkit_demo(tmp_path_factory: Any) -> Any:
        """A tiny synthetic dataset (4 images per domain at 32²), made once per test session."""
        from toonkit.data.demo import make_demo

        return make_demo(tmp_path_factory.mktemp("toonkit_demo"), n=6, size=32, seed=0)  # the style checks need 5

    @pytest.fixture
    def toonkit_registry() -> Registry:
        """A fresh registry with only toonkit's built-in components (the global one is untouched)."""
        return isolated_registry()

    @pytest.fixture
    def toonkit_registry_factory() -> Callable[..., Registry]:
        """``make(*plugins, builtin=True, strict=True)`` → a fresh registry with those plugins."""
        return isolated_registry
