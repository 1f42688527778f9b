"""Fake plugin distributions, installed through real entry points: a folder on ``sys.path`` holding
each plugin's package and a ``*.dist-info`` with ``entry_points.txt``, which is all
``importlib.metadata`` (and so toonkit's loader) looks at."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

import toonkit.plugins

GOOD = '''
"""A good plugin: one tiny generator and one loss."""
import torch
from torch import nn
from toonkit.plugins import hookimpl


class TinyGenerator(nn.Module):
    """Tiny test generator: one 3x3 convolution."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x))


class MeanAbs(nn.Module):
    """Mean absolute value."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input.abs().mean()


@hookimpl
def toonkit_register(registry):
    registry.add("generator", "tinygen", TinyGenerator)
    registry.add("loss", "meanabs", MeanAbs)
'''

BROKEN = '''
"""A plugin whose dependency is missing."""
import toonkit_dependency_that_is_not_installed  # noqa: F401
'''

HALFWAY = '''
"""A plugin whose hook fails after registering one component."""
from toonkit.plugins import hookimpl


def make():
    """Half-registered component."""
    return 1


@hookimpl
def toonkit_register(registry):
    registry.add("loss", "halfway_first", make)
    raise RuntimeError("second component failed")
'''


def write_plugin(root: Path, dist: str, ep_name: str, module: str, source: str,
                 version: str = "0.3.0") -> None:
    """Install ``module`` (one file) as distribution ``dist`` with entry point ``ep_name`` under ``root``."""
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[toonkit]\n{ep_name} = {module}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site folder with three plugins installed (good, broken, halfway), on sys.path and PYTHONPATH;
    the process-wide registry is reset before and after."""
    root = tmp_path / "site"
    root.mkdir()
    write_plugin(root, "toonkit-goodplug", "goodplug", "toonkit_goodplug", GOOD)
    write_plugin(root, "toonkit-brokenplug", "brokenplug", "toonkit_brokenplug", BROKEN)
    write_plugin(root, "toonkit-halfway", "halfway", "toonkit_halfway", HALFWAY)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), *sys.path]))
    for var in ("TOONKIT_DISABLE_PLUGINS", "TOONKIT_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    toonkit.plugins.reset()
    yield root
    for module in ("toonkit_goodplug", "toonkit_brokenplug", "toonkit_halfway"):
        sys.modules.pop(module, None)
    toonkit.plugins.reset()


@pytest.fixture
def install_plugin(site: Path):  # type: ignore[no-untyped-def]
    """Install one more fake plugin into ``site``: ``install_plugin(dist, ep_name, module, source)``;
    its module is forgotten afterwards."""
    modules: list[str] = []

    def install(dist: str, ep_name: str, module: str, source: str) -> None:
        write_plugin(site, dist, ep_name, module, source)
        modules.append(module)

    yield install
    for module in modules:
        sys.modules.pop(module, None)
