from __future__ import annotations

from typing import Literal

import pytest

import toonkit
from toonkit.registry import DuplicateComponentError, Registry, UnknownComponentError


class Widget:
    """A widget for tests."""

    def __init__(self, size: int = 3, mode: Literal["a", "b"] = "a") -> None:
        self.size, self.mode = size, mode


def make_registry() -> Registry:
    reg = Registry()
    reg.current_plugin = "tests"
    reg.add("generator", "widget", Widget)
    reg.add("generator", "widget_large", Widget, summary="bigger")
    reg.add("loss", "gadget", Widget)
    return reg


def test_build_passes_params_and_records_entry_metadata() -> None:
    reg = make_registry()
    w = reg.build("generator", "widget", size=5)
    assert (w.size, w.mode) == (5, "a")
    entry = reg.get("generator", "widget")
    assert entry.summary == "A widget for tests."
    assert entry.plugin == "tests"
    assert [p.name for p in entry.params] == ["size", "mode"]
    assert entry.param("size").default == 3 and not entry.param("size").required


def test_list_filters_by_kind_and_fnmatch_pattern() -> None:
    reg = make_registry()
    assert [e.name for e in reg.list("generator")] == ["widget", "widget_large"]
    assert [e.name for e in reg.list("generator", "*large")] == ["widget_large"]
    assert {(e.kind, e.name) for e in reg.list(None, "*dget")} == {("generator", "widget"), ("loss", "gadget")}
    assert reg.list("generator", "nothing*") == []


def test_unknown_name_lists_close_matches_and_all_names() -> None:
    reg = make_registry()
    with pytest.raises(UnknownComponentError) as err:
        reg.get("generator", "widgit")
    msg = str(err.value)
    assert "did you mean 'widget'" in msg
    assert "registered generators: widget, widget_large" in msg


def test_unknown_kind_is_reported() -> None:
    with pytest.raises(UnknownComponentError, match="did you mean 'generator'"):
        make_registry().list("generatr")


def test_duplicate_is_an_error_unless_override() -> None:
    reg = make_registry()
    reg.current_plugin = "other"
    with pytest.raises(DuplicateComponentError, match="already registered by plugin 'tests'"):
        reg.add("generator", "widget", Widget)
    entry = reg.add("generator", "widget", Widget, summary="replaced", override=True)
    assert reg.get("generator", "widget") is entry and entry.plugin == "other"


def test_global_registry_has_every_kind_from_builtin_plugin() -> None:
    for kind in toonkit.KINDS:
        entries = toonkit.list_components(kind)
        assert entries, f"no built-in {kind}"
        assert all(e.plugin == "builtin" or e.plugin != "unknown" for e in entries)
    assert toonkit.list_components("method", "selfie*")[0].name == "selfie_gan"
