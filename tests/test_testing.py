"""The plugin test kit (:mod:`toonkit.testing`) proven on every built-in component and method first.

Parametrised over the registry like timm's tests: a newly registered built-in is checked by the same kit
that plugin authors are told to use, with the trainer's own step context (CycleGAN optimises a tuple of
networks with one loss, which the kit's former stand-in context could not do).
"""
from __future__ import annotations

import pytest

from toonkit.testing import check_component, isolated_registry

REGISTRY = isolated_registry()
# ImageNet VGG weights cannot be fetched offline; methods get a random VGG through the kit's `slots`
SLOTS = {"nets.feature": {"weights": "random"}}
# components whose default shapes need larger inputs (a U-Net of 8 levels halves 256 down to 1)
SIZES = {"generator/unet": 256, "method/pix2pix": 256}
NOT_HERE = {"feature/vgg": "its default ImageNet weights need a download (tests/nets covers it with random weights)"}


def _entries() -> list[pytest.param]:
    out = []
    for entry in REGISTRY:
        if entry.plugin != "builtin" or entry.kind in ("metric",):
            continue
        key = f"{entry.kind}/{entry.name}"
        marks = [pytest.mark.skip(reason=NOT_HERE[key])] if key in NOT_HERE else []
        if key == "face_detector/mtcnn":
            from toonkit.nets.face_detectors import facenet_available

            marks += [pytest.mark.skipif(not facenet_available(), reason="needs the faces extra (facenet-pytorch)")]
        out.append(pytest.param(entry, id=key, marks=marks))
    return out


@pytest.mark.parametrize("entry", _entries())
def test_kit_passes_every_builtin(entry) -> None:  # noqa: ANN001 - a registry Entry
    key = f"{entry.kind}/{entry.name}"
    checked = check_component(entry, SIZES.get(key, 32), batch=2, registry=REGISTRY, slots=SLOTS)
    if entry.kind == "method" and entry.factory.trainable:
        phases = [p.name for p in entry.factory.phases]
        assert checked.startswith("built with slot defaults, train_step on phases")
        assert all(p in checked for p in phases), checked


def test_kit_reports_a_method_that_steps_an_undeclared_network() -> None:
    """The kit's context is the trainer's: optimising a network the phase does not train fails."""
    from toonkit.methods.cartoongan import CartoonGAN
    from toonkit.methods.base import Phase
    from toonkit.plugins import hookimpl, load_plugin_objects

    class Sloppy(CartoonGAN):
        phases = (Phase("init", ("discriminator",), "photos"),)  # but train_step's init steps G

    class Plugin:
        @hookimpl
        def toonkit_register(self, registry):  # noqa: ANN001
            registry.add("method", "sloppy", Sloppy)

    reg, _ = load_plugin_objects({"sloppy": Plugin()}, strict=True)
    with pytest.raises(KeyError, match="does not train 'generator'"):
        check_component(reg.get("method", "sloppy"), 32, registry=reg, slots=SLOTS)
