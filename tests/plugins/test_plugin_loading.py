"""Plugins installed through the ``toonkit`` entry-point group: loading, failures, settings, the CLI."""
from __future__ import annotations

import importlib.util

import json
import subprocess
import sys
from pathlib import Path

import pytest

import toonkit
import toonkit.plugins
from toonkit.plugins import PluginError, load_plugin_objects, load_plugins
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


@pytest.mark.skipif(importlib.util.find_spec("toonkit_mediapipe") is None,
                    reason="needs the toonkit-mediapipe plugin installed (CI step 2 runs it after installing the plugins)")
def test_recipe_naming_a_disabled_plugins_component_names_the_disabled_plugin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # toonkit-mediapipe is installed (editable) in the test environment, and disabled here
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "mediapipe")
    toonkit.plugins.reset()
    try:
        with pytest.raises(RecipeError) as err:
            recipe_from_dict({"method": {"type": "selfie_gan"},
                              "data": {"mask_teacher": {"type": "mediapipe_selfie"}}}, "r.yaml")
        with pytest.raises(RecipeError) as required:
            recipe_from_dict({"requires": ["toonkit-mediapipe"], "method": {"type": "selfie_gan"},
                              "data": {"mask_teacher": {"type": "mediapipe_selfie"}}}, "r.yaml")
    finally:
        toonkit.plugins.reset()
    (line,) = [p for p in err.value.problems if "mask_teacher" in p]
    assert line == ("r.yaml: data.mask_teacher.type: unknown masker 'mediapipe_selfie'; installed plugins "
                    "disabled by TOONKIT_DISABLE_PLUGINS, which may provide it: mediapipe (toonkit-mediapipe)")
    assert err.value.missing_plugins == []  # nothing declared: nothing for the bench to skip by
    (line,) = [p for p in required.value.problems if "mask_teacher" in p]
    assert line.endswith("; plugin toonkit-mediapipe (plugin 'mediapipe' from toonkit-mediapipe) installed "
                         "but disabled by TOONKIT_DISABLE_PLUGINS")
    assert "pip install" not in line  # it is installed: installing it again would not help
    assert required.value.missing_plugins == ["toonkit-mediapipe"]


def _watercolour_recipe_error() -> RecipeError:
    """Resolve a recipe that requires the (never installed) toonkit-watercolour, with fresh plugins."""
    toonkit.plugins.reset()
    try:
        with pytest.raises(RecipeError) as err:
            recipe_from_dict({"requires": ["toonkit-watercolour"], "method": {"type": "watercolour"}},
                             "w.yaml")
    finally:
        toonkit.plugins.reset()
    return err.value


def test_recipe_naming_an_unknown_plugins_component_names_its_requires(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOONKIT_DISABLE_PLUGINS", raising=False)
    err = _watercolour_recipe_error()
    (line,) = err.problems
    assert "unknown method 'watercolour'" in line
    assert line.endswith("; plugin toonkit-watercolour not installed (pip install toonkit-watercolour)")
    assert err.missing_plugins == ["toonkit-watercolour"]


def test_install_hint_uses_the_checkouts_plugin_folder(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.plugins.catalog import install_hint

    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "plugins" / "toonkit-watercolour").mkdir(parents=True)
    (checkout / "plugins" / "toonkit-watercolour" / "pyproject.toml").write_text("[project]\n")
    (checkout / "recipes").mkdir()
    assert install_hint("toonkit-watercolour", cwd=checkout) == "pip install -e plugins/toonkit-watercolour"
    assert install_hint("toonkit-watercolour", cwd=checkout / "recipes") == (
        "pip install -e ../plugins/toonkit-watercolour")
    assert install_hint("toonkit-inkwash", cwd=checkout) == "pip install toonkit-inkwash"
    assert install_hint("toonkit-watercolour", cwd=tmp_path) == "pip install toonkit-watercolour"
    monkeypatch.chdir(checkout)
    assert _watercolour_recipe_error().problems[0].endswith(
        "; plugin toonkit-watercolour not installed (pip install -e plugins/toonkit-watercolour)")


def test_recipe_naming_a_broken_plugins_component_shows_its_error(site: Path) -> None:
    with pytest.raises(RecipeError) as err:
        recipe_from_dict({"requires": ["brokenplug"], "method": {"type": "brokenplug"}}, "b.yaml")
    (line,) = err.value.problems
    assert "; plugin brokenplug installed but broken: ModuleNotFoundError" in line
    assert err.value.missing_plugins == ["brokenplug"]


def test_an_unmarked_hook_is_a_plugin_error() -> None:
    import types

    def toonkit_register(registry):  # noqa: ANN001 - no @hookimpl: pluggy would never call it
        registry.add("loss", "unmarked", lambda: 0.0)

    unmarked = types.SimpleNamespace(toonkit_register=toonkit_register)
    registry, infos = load_plugin_objects({"unmarked": unmarked, "empty": types.SimpleNamespace()},
                                          builtin=False)
    errors = {i.name: i.error for i in infos}
    assert errors == {
        "unmarked": "PluginError: plugin 'unmarked': toonkit_register is not marked with "
                    "@toonkit.plugins.hookimpl",
        "empty": "PluginError: plugin 'empty' defines no toonkit_register hook"}
    assert ("loss", "unmarked") not in registry
    with pytest.raises(PluginError, match="not marked with @toonkit.plugins.hookimpl"):
        load_plugin_objects({"unmarked": unmarked}, builtin=False, strict=True)


def test_hooks_are_called_through_one_kept_plugin_manager(site: Path) -> None:
    from toonkit.plugins.manager import loaded

    state = loaded()
    assert toonkit.plugins.get_registry() is state.registry and loaded() is state  # kept, not remade
    names = {n for n, p in state.pm.list_name_plugin() if p is not None}
    # plugins that failed are not left registered, so no later hook reaches them
    assert {"builtin", "goodplug"} <= names and not {"brokenplug", "halfway"} & names
    impls = {i.plugin_name for i in state.pm.hook.toonkit_register.get_hookimpls()}
    assert impls == names


def test_each_plugin_registers_through_its_own_view() -> None:
    import types

    seen: list[object] = []

    def register(registry):  # noqa: ANN001
        seen.append(registry)
        registry.add_kind("palette")
        registry.add("palette", "sepia", lambda: "sepia")

    def register_other(registry):  # noqa: ANN001
        seen.append(registry)
        assert ("palette", "sepia") in registry  # earlier plugins' entries are visible
        registry.add("palette", "sepia", lambda: "mine", override=True)

    registry, infos = load_plugin_objects(
        {"first": types.SimpleNamespace(toonkit_register=toonkit.plugins.hookimpl(register)),
         "second": types.SimpleNamespace(toonkit_register=toonkit.plugins.hookimpl(register_other))},
        builtin=False, strict=True)
    assert [v.plugin for v in seen] == ["first", "second"]  # one call per plugin, each with its name
    assert registry.get("palette", "sepia").plugin == "second" and registry.kind_plugin("palette") == "first"
    assert [i.components for i in infos] == [{}, {"palette": ["sepia"]}]


PAINT = '''
"""A plugin with a CLI subcommand, and one whose command clashes with a built-in one."""
from toonkit.plugins import hookimpl


@hookimpl
def toonkit_register(registry):
    pass


@hookimpl
def toonkit_commands(subparsers):
    p = subparsers.add_parser("paint", help="paint a photo")
    p.add_argument("photo")
    p.set_defaults(_module=__name__)


def run(args):
    print(f"painting {args.photo}")
    return 0
'''

CLASH = '''
from toonkit.plugins import hookimpl


@hookimpl
def toonkit_register(registry):
    pass


@hookimpl
def toonkit_commands(subparsers):
    subparsers.add_parser("list")
'''


def test_a_plugin_adds_a_cli_subcommand(install_plugin, capsys: pytest.CaptureFixture[str],  # noqa: ANN001
                                        caplog: pytest.LogCaptureFixture) -> None:
    from toonkit.cli.main import build_parser, main

    install_plugin("toonkit-paint", "paint", "toonkit_paint", PAINT)
    install_plugin("toonkit-clash", "clash", "toonkit_clash", CLASH)
    toonkit.plugins.reset()
    assert main(["paint", "me.jpg"]) == 0
    assert capsys.readouterr().out == "painting me.jpg\n"
    assert "paint a photo" in build_parser().format_help()
    assert "plugin clash: its commands were left out: ArgumentError" in caplog.text
    assert main(["list", "generator"]) == 0  # the built-in command is still the built-in one
    assert "cartoongan" in capsys.readouterr().out
