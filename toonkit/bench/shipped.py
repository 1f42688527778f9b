"""Suites shipped inside the package, so that ``toonkit bench`` runs in any checkout or install.

``toonkit/bench/suites/<name>.yaml`` (read through :mod:`importlib.resources`) with the recipes they
train in ``toonkit/bench/suites/recipes/``. ``default`` is what ``toonkit bench`` runs without a suite
argument: the synthetic demo set, tiny networks and budgets, and metrics that need no pretrained weights,
so it needs no data folder, no download and no GPU, and takes a few minutes on a laptop CPU.

Example:
    >>> from toonkit.bench.shipped import find_suite
    >>> find_suite(None).name  # doctest: +SKIP
    'default.yaml'
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from toonkit.bench.suite import SuiteError
from toonkit.registry import did_you_mean

#: the suite ``toonkit bench`` runs when it is given none
DEFAULT_SUITE = "default"


def suites_dir() -> Path:
    """The folder of the shipped suites (setuptools installs packages as plain folders)."""
    return Path(str(resources.files("toonkit.bench") / "suites"))


def shipped_suites() -> list[str]:
    """Names of the shipped suites (file stems), sorted."""
    return sorted(p.stem for p in suites_dir().glob("*.yaml"))


def is_shipped(path: Path) -> bool:
    """Whether ``path`` is one of the shipped suite files (their results go under ``runs/bench``)."""
    return path.resolve().parent == suites_dir().resolve()


def find_suite(given: str | None) -> Path:
    """The suite file for ``toonkit bench [SUITE]``: an existing file, else a shipped suite's name.

    Args:
        given: a path to a suite YAML, the name of a shipped suite, or None for :data:`DEFAULT_SUITE`.

    Raises:
        SuiteError: neither a file nor a shipped suite (one line, listing the shipped names).
    """
    name = DEFAULT_SUITE if given is None else given
    if Path(name).is_file():
        return Path(name)
    shipped = shipped_suites()
    if name in shipped:
        return suites_dir() / f"{name}.yaml"
    raise SuiteError([f"suite file not found: {name}{did_you_mean(name, shipped)} (shipped suites: "
                      f"{', '.join(shipped)}; `toonkit bench` alone runs '{DEFAULT_SUITE}')"])
