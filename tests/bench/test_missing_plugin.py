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
    assert skipped == ["animegan: skipped, plugin toonkit-animegan not installed "
                       "(pip install -e plugins/toonkit-animegan (from a toonkit checkout))"]


def test_install_hint_never_names_a_pypi_package_that_does_not_exist() -> None:
    from toonkit.plugins.catalog import KNOWN_PLUGINS, install_hint

    for dist in KNOWN_PLUGINS:
        assert install_hint(dist).startswith(f"pip install -e plugins/{dist}")
        assert (REPO / "plugins" / dist / "pyproject.toml").is_file()
