"""A suite naming a plugin method whose plugin is missing runs the rest and says how to install it."""
from __future__ import annotations

from pathlib import Path

import pytest

import toonkit.plugins
from toonkit.bench.methods import plan_methods
from toonkit.bench.suite import suite_from_dict

REPO = Path(__file__).resolve().parents[2]


def test_missing_plugin_method_is_skipped_with_the_install_hint(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "animegan")  # as on a fresh clone without the plugin
    toonkit.plugins.reset()
    try:
        suite = suite_from_dict({
            "name": "t",
            "data": {"demo": {"n": 6, "size": 32, "n_test": 2}, "reference_every": 3},
            "budget": {"size": 32, "batch_size": 2, "steps": {"init": 1, "adversarial": 1}},
            "methods": {"cartoongan": {"recipe": str(REPO / "recipes" / "cartoongan.yaml")},
                        "animegan": {"recipe": str(REPO / "plugins" / "toonkit-animegan" / "recipes"
                                                   / "animegan.yaml")}},
            "eval": {"size": 32, "metrics": ["color_drift"]},
        }, tmp_path / "s.yaml")
        from toonkit.bench.data import materialise

        data = materialise(suite, tmp_path / "work")
        skipped: list[str] = []
        plans = plan_methods(suite, data, tmp_path / "work", skipped)
    finally:
        toonkit.plugins.reset()
    assert [p.name for p in plans] == ["cartoongan"]
    if _installed("toonkit-animegan"):  # installed but disabled: installing it again would not help
        assert skipped == ["animegan: skipped, plugin toonkit-animegan (plugin 'animegan' from toonkit-animegan) "
                           "installed but disabled by TOONKIT_DISABLE_PLUGINS"]
    else:  # a fresh clone after `pip install -e ".[dev]"`: the command that installs it from the checkout
        assert len(skipped) == 1 and skipped[0].startswith("animegan: skipped, plugin toonkit-animegan not installed")
        assert "pip install -e plugins/toonkit-animegan" in skipped[0]


def test_method_whose_plugin_is_not_installed_is_skipped_with_the_install_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = tmp_path / "inkwash.yaml"
    recipe.write_text("requires: [toonkit-inkwash]\nmethod: {type: inkwash}\n")
    # a checkout holding the plugin's source: the hint installs from there
    (tmp_path / ".git").mkdir()
    (tmp_path / "plugins" / "toonkit-inkwash").mkdir(parents=True)
    (tmp_path / "plugins" / "toonkit-inkwash" / "pyproject.toml").write_text("[project]\n")
    monkeypatch.chdir(tmp_path)
    suite = suite_from_dict({
        "name": "t",
        "data": {"demo": {"n": 6, "size": 32, "n_test": 2}, "reference_every": 3},
        "budget": {"size": 32, "batch_size": 2, "steps": {"init": 1, "adversarial": 1}},
        "methods": {"cartoongan": {"recipe": str(REPO / "recipes" / "cartoongan.yaml")},
                    "inkwash": {"recipe": str(recipe)}},
        "eval": {"size": 32, "metrics": ["color_drift"]},
    }, tmp_path / "s.yaml")
    from toonkit.bench.data import materialise

    data = materialise(suite, tmp_path / "work")
    skipped: list[str] = []
    plans = plan_methods(suite, data, tmp_path / "work", skipped)
    assert [p.name for p in plans] == ["cartoongan"]
    assert skipped == ["inkwash: skipped, plugin toonkit-inkwash not installed "
                       "(pip install -e plugins/toonkit-inkwash)"]


def test_every_repo_recipe_using_a_plugin_component_requires_its_package() -> None:
    """The bench's skip and the install hint rely on ``requires:``: a recipe (or a suite's recipe) that
    names a component some installed plugin registers must list that plugin's distribution."""
    import yaml

    from toonkit.plugins import plugin_infos

    provides = {(kind, name): info.distribution for info in plugin_infos() if info.distribution
                for kind, names in info.components.items() for name in names}
    suites = sorted((REPO / "benchmarks").glob("*.yaml"))
    recipes = {*(REPO / "recipes").glob("*.yaml"), *(REPO / "plugins").glob("*/recipes/*.yaml")}
    for suite in suites:
        for method in (yaml.safe_load(suite.read_text()).get("methods") or {}).values():
            if method.get("recipe"):
                recipes.add((suite.parent / method["recipe"]).resolve())
    assert any("animegan" in str(r) for r in recipes)
    for path in sorted(recipes):
        data = yaml.safe_load(path.read_text())
        used = {("method", (data.get("method") or {}).get("type"))}
        for section, kind_of in (("nets", None), ("losses", "loss"), ("augment", "augmenter")):
            for block in (data.get(section) or {}).values():
                if isinstance(block, dict):
                    kinds = [kind_of] if kind_of else ["generator", "discriminator", "masker", "feature"]
                    used |= {(k, block.get("type")) for k in kinds}
        teacher = (data.get("data") or {}).get("mask_teacher")
        if isinstance(teacher, dict):
            used.add(("masker", teacher.get("type")))
        needed = {provides[u] for u in used if u in provides}
        assert needed <= set(data.get("requires") or []), (path, needed)


def _installed(dist: str) -> bool:
    from importlib import metadata

    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True
