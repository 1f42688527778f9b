"""Plugins installed through the ``toonkit`` entry-point group: loading, failures, settings, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import toonkit
import toonkit.plugins
from toonkit.plugins import PluginError, load_plugins
from toonkit.recipe import RecipeError, recipe_from_dict


def infos_by_name(infos: list) -> dict:
    return {i.name: i for i in infos}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m toonkit ARGS`` in a fresh interpreter (it sees PYTHONPATH set by the fixture)."""
    return subprocess.run([sys.executable, "-m", "toonkit", *args], check=False, capture_output=True,
                          text=True, timeout=120)


def test_good_plugin_registers_its_components_under_its_name(site: Path) -> None:
    registry, infos = load_plugins()
    good = infos_by_name(infos)["goodplug"]
    assert good.error is None
    assert good.version == "0.3.0" and good.distribution == "toonkit-goodplug"
    assert good.components == {"generator": ["tinygen"], "loss": ["meanabs"]}
    assert registry.get("generator", "tinygen").plugin == "goodplug"
    assert registry.get("generator", "tinygen").summary == "Tiny test generator: one 3x3 convolution."
    # the built-in plugin is unaffected by its neighbours
    assert infos_by_name(infos)["builtin"].error is None
    assert ("generator", "cartoongan") in registry


def test_broken_plugin_is_recorded_not_fatal(site: Path) -> None:
    registry, infos = load_plugins()
    broken = infos_by_name(infos)["brokenplug"]
    assert broken.error.startswith("ModuleNotFoundError")
    assert "toonkit_dependency_that_is_not_installed" in broken.error
    assert broken.components == {}
    assert ("generator", "tinygen") in registry  # the good one still loaded


def test_a_hook_failing_halfway_leaves_nothing_behind(site: Path) -> None:
    registry, infos = load_plugins()
    half = infos_by_name(infos)["halfway"]
    assert half.error == "RuntimeError: second component failed"
    assert half.components == {}
    assert ("loss", "halfway_first") not in registry


def test_disable_plugins_removes_their_components(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "goodplug, brokenplug")
    registry, infos = load_plugins()
    names = infos_by_name(infos)
    assert "goodplug" not in names and "brokenplug" not in names
    assert ("generator", "tinygen") not in registry
    assert ("generator", "cartoongan") in registry


def test_uninstalling_a_plugin_removes_its_components(site: Path) -> None:
    import shutil

    registry, _ = load_plugins()
    assert ("generator", "tinygen") in registry
    shutil.rmtree(site / "toonkit_goodplug-0.3.0.dist-info")  # what `pip uninstall` removes
    registry, infos = load_plugins()
    assert "goodplug" not in infos_by_name(infos)
    assert ("generator", "tinygen") not in registry and ("loss", "meanabs") not in registry


def test_strict_plugins_turns_a_broken_plugin_into_an_error(site: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("TOONKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="plugin 'brokenplug' failed to load: ModuleNotFoundError"):
        load_plugins()
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "brokenplug,halfway")
    _, infos = load_plugins()  # strict with the broken ones disabled: fine
    assert all(i.error is None for i in infos)


def test_global_build_sees_an_entry_point_plugin(site: Path) -> None:
    import torch

    net = toonkit.build("generator", "tinygen", channels=3)
    assert net(torch.zeros(1, 3, 8, 8)).shape == (1, 3, 8, 8)


def test_cli_plugins_json_lists_good_and_broken(site: Path) -> None:
    proc = run_cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {p["name"]: p for p in json.loads(proc.stdout)}
    assert listed["goodplug"] == {"name": "goodplug", "version": "0.3.0", "error": None,
                                  "components": {"generator": ["tinygen"], "loss": ["meanabs"]}}
    assert listed["brokenplug"]["error"].startswith("ModuleNotFoundError")
    assert listed["builtin"]["error"] is None


def test_cli_list_works_with_a_broken_plugin_installed(site: Path) -> None:
    proc = run_cli("list", "generator")
    assert proc.returncode == 0, proc.stderr
    assert "tinygen" in proc.stdout and "[goodplug]" in proc.stdout
    assert "cartoongan" in proc.stdout
    assert "brokenplug failed to load" in proc.stderr  # warned about, once, not fatal


def test_recipe_naming_a_disabled_plugins_component_names_the_package(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # mediapipe_selfie is provided by the toonkit-mediapipe package (installed or not, disabled here)
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "mediapipe")
    toonkit.plugins.reset()
    try:
        with pytest.raises(RecipeError) as err:
            recipe_from_dict({"method": {"type": "selfie_gan"},
                              "data": {"mask_teacher": {"type": "mediapipe_selfie"}}}, "r.yaml")
    finally:
        toonkit.plugins.reset()
    (line,) = [p for p in err.value.problems if "mask_teacher" in p]
    assert line.startswith("r.yaml: data.mask_teacher.type: unknown masker 'mediapipe_selfie'")
    assert "pip install -e plugins/toonkit-mediapipe" in line


def test_recipe_naming_an_unknown_plugins_component_names_its_requires(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOONKIT_DISABLE_PLUGINS", raising=False)
    toonkit.plugins.reset()
    try:
        with pytest.raises(RecipeError) as err:
            recipe_from_dict({"requires": ["toonkit-watercolour"], "method": {"type": "watercolour"}},
                             "w.yaml")
    finally:
        toonkit.plugins.reset()
    (line,) = err.value.problems
    assert "unknown method 'watercolour'" in line
    assert "not installed: toonkit-watercolour" in line


def test_recipe_naming_a_broken_plugins_component_shows_its_error(site: Path) -> None:
    with pytest.raises(RecipeError) as err:
        recipe_from_dict({"requires": ["brokenplug"], "method": {"type": "brokenplug"}}, "b.yaml")
    (line,) = err.value.problems
    assert "plugin 'brokenplug' is installed but broken: ModuleNotFoundError" in line
