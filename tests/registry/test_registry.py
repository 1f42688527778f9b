from __future__ import annotations

from typing import Literal

import pytest

import toonkit
from toonkit.plugins import PluginRegistry
from toonkit.registry import DuplicateComponentError, Registry, UnknownComponentError, renamed_params


class Widget:
    """A widget for tests."""

    def __init__(self, size: int = 3, mode: Literal["a", "b"] = "a") -> None:
        self.size, self.mode = size, mode


def make_registry() -> Registry:
    reg = Registry()
    view = PluginRegistry(reg, "tests")
    view.add("generator", "widget", Widget)
    view.add("generator", "widget_large", Widget, summary="bigger")
    view.add("loss", "gadget", Widget)
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
    other = PluginRegistry(reg, "other")
    with pytest.raises(DuplicateComponentError, match="already registered by plugin 'tests'; plugin 'other'"):
        other.add("generator", "widget", Widget)
    entry = other.add("generator", "widget", Widget, summary="replaced", override=True)
    assert reg.get("generator", "widget") is entry and entry.plugin == "other"


def test_global_registry_has_every_kind_from_builtin_plugin() -> None:
    for kind in toonkit.KINDS:
        entries = toonkit.list_components(kind)
        assert entries, f"no built-in {kind}"
        assert all(e.plugin == "builtin" or e.plugin != "unknown" for e in entries)
    assert toonkit.list_components("method", "selfie*")[0].name == "selfie_gan"


def test_plugin_view_reads_the_whole_registry_and_owns_what_it_adds() -> None:
    reg = make_registry()
    view = PluginRegistry(reg, "mine")
    view.add_kind("palette")
    view.add("palette", "sepia", Widget)
    assert reg.get("palette", "sepia").plugin == "mine" and reg.kind_plugin("palette") == "mine"
    assert reg.kind_plugin("generator") is None  # toonkit's own kinds belong to no plugin
    assert ("generator", "widget") in view and view.get("generator", "widget").plugin == "tests"
    assert [e.name for e in view.list("generator")] == ["widget", "widget_large"]
    assert reg.by_plugin("mine") == {"palette": ["sepia"]}
    before = reg.snapshot()
    view.add_kind("brush")
    reg.restore(before)  # a plugin rolled back takes its kinds with it
    assert "brush" not in reg.kinds and reg.kind_plugin("brush") is None
    assert not hasattr(reg, "current_plugin") and not hasattr(reg, "register")


@renamed_params(size_px="size")
class RenamedWidget(Widget):
    """A widget whose ``size_px`` became ``size``."""


def test_renamed_parameter_builds_with_a_deprecation_warning() -> None:
    reg = Registry()
    entry = reg.add("generator", "renamed", RenamedWidget, plugin="tests")
    assert [p.name for p in entry.params] == ["size", "mode"]  # the old name is not advertised
    assert entry.renamed == {"size_px": "size"}
    with pytest.warns(DeprecationWarning, match="generator 'renamed': parameter 'size_px' is deprecated, use 'size'"):
        w = reg.build("generator", "renamed", size_px=7, mode="b")
    assert (w.size, w.mode) == (7, "b")
    with pytest.raises(TypeError, match="size_px"):  # both names: the conflict is not resolved silently
        reg.build("generator", "renamed", size_px=7, size=8)


def test_old_toonkit_registry_call_still_works_with_a_warning() -> None:
    """``toonkit.registry`` is the module (it shadowed the old function); calling it still returns the
    process-wide registry for one release, with a DeprecationWarning pointing at ``get_registry``."""
    import toonkit
    import toonkit.registry as module

    assert toonkit.registry is module
    with pytest.warns(DeprecationWarning, match="toonkit.get_registry"):
        assert toonkit.registry() is toonkit.get_registry()
