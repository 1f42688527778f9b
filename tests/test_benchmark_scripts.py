"""The scripts in ``benchmarks/`` use toonkit's API: a move inside the package must not break them silently.

They are run by hand (minutes to hours), so the suite checks what can break without running them: every
``from toonkit... import name`` they make, at any depth, resolves against the installed package.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def _toonkit_imports(path: Path) -> list[tuple[int, str, str | None]]:
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "toonkit":
            found += [(node.lineno, node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] == "toonkit"]
    return found


def test_there_are_scripts_to_check() -> None:
    assert len(SCRIPTS) > 5 and any(_toonkit_imports(p) for p in SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_toonkit_imports_resolve(script: Path) -> None:
    broken = []
    for line, module, name in _toonkit_imports(script):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            broken.append(f"{script.name}:{line}: {module}: {exc}")
            continue
        if name is not None and name != "*" and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                broken.append(f"{script.name}:{line}: {module} has no '{name}'")
    assert not broken, "\n".join(broken)
