"""A matrix of misbehaving plugins, installed as dist-info folders on ``sys.path``: each is recorded as
broken with one line, the built-ins stay, ``toonkit plugins --json`` stays JSON."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import toonkit.plugins
from toonkit.cli.main import main
from toonkit.plugins import load_plugins

from .helpers import write_plugin

PLUGINS = {
    "exits": "import sys\nsys.exit(3)\n",
    "interrupts": "raise KeyboardInterrupt\n",
    "prints": '''
        from toonkit.plugins import hookimpl
        print("hello from a chatty plugin")

        def make():
            """Chatty loss."""
            return 0

        @hookimpl
        def toonkit_register(registry):
            print("registering!")
            registry.add("loss", "chatty", make)
    ''',
    "overrides_then_fails": '''
        from toonkit.plugins import hookimpl

        def fake(base_channels: int = 1):
            """Fake generator."""
            return None

        @hookimpl
        def toonkit_register(registry):
            registry.add("generator", "cartoongan", fake, override=True)
            raise RuntimeError("second step failed")
    ''',
    "not_callable": '''
        from toonkit.plugins import hookimpl

        @hookimpl
        def toonkit_register(registry):
            registry.add("loss", "not_callable", 42)
    ''',
    "no_hookimpl": '''
        def toonkit_register(registry):
            registry.add("loss", "unmarked", lambda: 0)
    ''',
    "exits_in_hook": '''
        import sys
        from toonkit.plugins import hookimpl

        @hookimpl
        def toonkit_register(registry):
            sys.exit("bye")
    ''',
}
BROKEN = {"exits": "SystemExit", "interrupts": "KeyboardInterrupt", "overrides_then_fails": "RuntimeError",
          "not_callable": "TypeError", "no_hookimpl": "hookimpl", "exits_in_hook": "SystemExit"}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    root = tmp_path / "site"
    root.mkdir()
    for name, source in PLUGINS.items():
        write_plugin(root, name, source)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), *sys.path]))
    for var in ("TOONKIT_DISABLE_PLUGINS", "TOONKIT_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    toonkit.plugins.reset()
    yield root
    for name in PLUGINS:
        sys.modules.pop(f"toonkit_rel_{name}", None)
    toonkit.plugins.reset()


def test_each_misbehaving_plugin_is_contained(site: Path, capsys: pytest.CaptureFixture) -> None:
    registry, infos = load_plugins()
    by_name = {i.name: i for i in infos}
    for name, marker in BROKEN.items():
        assert by_name[name].error and marker in by_name[name].error, (name, by_name[name].error)
        assert "\n" not in by_name[name].error
        assert by_name[name].components == {}
    assert by_name["prints"].error is None and ("loss", "chatty") in registry
    entry = registry.get("generator", "cartoongan")  # the override was rolled back
    assert entry.plugin == "builtin"
    assert ("loss", "not_callable") not in registry and ("loss", "unmarked") not in registry
    assert "hello from a chatty plugin" not in capsys.readouterr().out


def test_plugins_json_stays_json(site: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["prints"]["error"] is None and listed["exits"]["error"].startswith("SystemExit")


def test_strict_plugins_is_one_line(site: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("TOONKIT_STRICT_PLUGINS", "1")
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("toonkit list:")]
    assert "Traceback" not in err and len(lines) == 1 and "TOONKIT_STRICT_PLUGINS" in lines[0]
