"""toonkit.testing: the plugin author's kit (isolated registries, the component check, fixtures)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import ClassVar

import pytest
import torch
from torch import nn

import toonkit
from toonkit.methods.base import Method, Phase, Slot
from toonkit.plugins import hookimpl
from toonkit.testing import check_plugin_components, isolated_registry, resolve_plugin

REPO = Path(__file__).resolve().parents[2]


def plugin_module(name: str, register) -> types.ModuleType:
    module = types.ModuleType(name)
    module.toonkit_register = hookimpl(register)
    return module


class NaNGenerator(nn.Module):
    """Generator whose output is NaN."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * float("nan")


class DeadBranchGenerator(nn.Module):
    """Generator with a layer that never gets a gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.used, self.unused = nn.Conv2d(3, 3, 1), nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.used(x)


class VectorLoss(nn.Module):
    """Loss that forgets to reduce."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (input - target).abs().flatten(1).mean(1)


class Autoencode(Method):
    """Tiny method: G reconstructs photos; one phase."""

    nets: ClassVar[dict[str, Slot]] = {"generator": Slot("generator", "tinygen")}
    losses: ClassVar[dict[str, Slot]] = {"pixel": Slot("loss", "pixel")}
    phases = (Phase("fit", ("generator",), "photos"),)

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = weight

    def train_step(self, batch, ctx):
        loss = self.weight * self.loss["pixel"](self.net["generator"](batch["photo"]), batch["photo"])
        ctx.optimize("generator", loss)
        return {"pixel": loss.detach()}


class WrongGroupMethod(Autoencode):
    """Method that steps a network its phase does not declare."""

    phases = (Phase("fit", (), "photos"),)


def test_installed_plugin_is_checked_by_name(site: Path) -> None:
    report = check_plugin_components("goodplug")
    assert report.plugin == "goodplug"
    assert set(report.checked) == {"generator/tinygen", "loss/meanabs"}
    assert "backward" in report.checked["generator/tinygen"]


def test_failures_are_collected_and_named() -> None:
    def register(registry):
        registry.add("generator", "nan", NaNGenerator)
        registry.add("generator", "deadbranch", DeadBranchGenerator)
        registry.add("loss", "vector", VectorLoss)

    with pytest.raises(AssertionError) as err:
        check_plugin_components(plugin_module("badkit", register))
    text = str(err.value)
    assert "0 ok, 3 failed" in text
    assert "generator/nan: AssertionError: output has non-finite values" in text
    assert "generator/deadbranch: AssertionError: backward: no gradient reached unused.weight" in text
    assert "loss/vector: AssertionError: a loss must return a scalar tensor" in text


def test_methods_run_one_train_step_per_phase(site: Path) -> None:
    def register(registry):
        registry.add("method", "autoencode", Autoencode)
        registry.add("method", "wronggroup", WrongGroupMethod)

    kit = plugin_module("methodkit", register)
    registry = isolated_registry("goodplug", kit)  # tinygen comes from the installed good plugin
    with pytest.raises(AssertionError) as err:
        check_plugin_components(kit, registry=registry)
    text = str(err.value)
    assert "ok    method/autoencode: built with slot defaults, train_step on phases fit" in text
    assert "method/wronggroup: KeyError: \"phase 'fit' does not train 'generator'" in text


def test_isolated_registry_leaves_the_global_one_alone() -> None:
    kit = plugin_module("lonely", lambda registry: registry.add("loss", "lonely_loss", VectorLoss))
    registry = isolated_registry(kit)
    assert registry.get("loss", "lonely_loss").plugin == "lonely"
    assert ("generator", "cartoongan") in registry
    assert ("loss", "lonely_loss") not in toonkit.get_registry()
    assert ("generator", "cartoongan") not in isolated_registry(kit, builtin=False)


def test_resolve_plugin_accepts_names_paths_and_modules(site: Path) -> None:
    from toonkit.plugins import builtin

    assert resolve_plugin("builtin") == ("builtin", builtin)
    name, module = resolve_plugin("toonkit_goodplug")  # import path of an installed plugin: its ep name
    assert name == "goodplug" and module.__name__ == "toonkit_goodplug"
    assert resolve_plugin("goodplug")[0] == "goodplug"


def test_template_plugin_passes_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    template = REPO / "plugins" / "template"
    monkeypatch.syspath_prepend(str(template))
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")

    entry = tomllib.loads((template / "pyproject.toml").read_text())["project"]["entry-points"]["toonkit"]
    (target,) = entry.values()
    report = check_plugin_components(target)
    assert report.checked


def test_fixtures_work_from_a_plugins_conftest(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["toonkit.testing"]\n')
    (tmp_path / "test_uses_kit.py").write_text(textwrap.dedent('''
        def test_registry(toonkit_registry):
            assert ("generator", "cartoongan") in toonkit_registry

        def test_factory(toonkit_registry_factory):
            assert ("generator", "cartoongan") in toonkit_registry_factory()

        def test_demo(toonkit_demo):
            from pathlib import Path

            from toonkit.data.folders import scan_images

            assert len(scan_images(Path(toonkit_demo["photos"]))) == 6
    '''))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          check=False, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
