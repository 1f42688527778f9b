"""The house's shape: layers that only point down, no import cycles, every package in a layer.

The layers are declared once, in ``pyproject.toml`` (``[tool.importlinter]``), and checked with
import-linter, which follows function-level imports too (a lazy ``import`` inside a function is still an
arrow). Imports made only for type checking are not arrows: they never run.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is a dev dependency: pip install -e '.[dev]'")
import grimp  # noqa: E402  (installed with import-linter)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "toonkit"


def _layers() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = text[text.index("[[tool.importlinter.contracts]]"):]
    body = block[block.index("layers = [") + len("layers = ["): block.index("]", block.index("layers = ["))]
    return re.findall(r'"([^"]+)"', body)


def test_layers_point_down() -> None:
    # in a subprocess: import-linter's CLI reconfigures logging (dictConfig disables every existing
    # logger), which would silence the log assertions of the tests that run after this one
    proc = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                           "sys.exit(lint_imports())"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, "a module imports from a layer above it:\n" + proc.stdout[-3000:] + proc.stderr[-2000:]


def test_every_package_and_top_module_is_in_a_layer() -> None:
    """A new subpackage must be placed in a layer, or the contract would not see its arrows."""
    named = {m.strip() for layer in _layers() for m in re.split(r"[|:]", layer)}
    present = {f"toonkit.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    present |= {f"toonkit.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert present - named == set(), f"place these in [tool.importlinter] layers: {sorted(present - named)}"


def _cycles(adj: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(adj):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("toonkit", exclude_type_checking_imports=True)
    adj = {m: {i for i in graph.find_modules_directly_imported_by(m) if i.startswith("toonkit")}
           for m in graph.modules}
    assert _cycles(adj) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
