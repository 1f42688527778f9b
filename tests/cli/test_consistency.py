"""The command line speaks one language: help everywhere, the same flags for the same things."""
from __future__ import annotations

import argparse

import pytest

from toonkit.cli.main import build_parser


def _parsers(parser: argparse.ArgumentParser, prefix: str = "toonkit") -> list[tuple[str, argparse.ArgumentParser]]:
    out = [(prefix, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _parsers(sub, f"{prefix} {name}")
    return out


def test_every_argument_has_help_text() -> None:
    missing = [f"{where}: {a.dest}" for where, p in _parsers(build_parser()) for a in p._actions
               if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction, argparse._VersionAction))
               and not a.help]
    assert missing == []


@pytest.mark.parametrize("command", ["run", "bench"])
def test_run_and_bench_share_out_and_quiet_flags(command: str) -> None:
    parser = build_parser()
    args = parser.parse_args([command, "x.yaml", "-o", "d", "-q"])
    assert args.out == "d" and args.quiet
    assert not parser.parse_args([command, "x.yaml"]).quiet  # bars by default (on a terminal)


def test_bench_progress_is_a_deprecated_alias(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from toonkit.cli.main import main

    assert build_parser().parse_args(["bench", "x.yaml", "--progress"]).progress
    assert main(["bench", str(tmp_path / "none.yaml"), "--progress"]) == 2  # still accepted, then a usage error
    assert "--progress is deprecated" in capsys.readouterr().err


def test_list_prints_plain_sentences_and_parameter_types(capsys: pytest.CaptureFixture[str]) -> None:
    from toonkit.cli.main import main

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any("``" in line or ":class:`" in line for line in lines)  # RST markup was printed raw
    resnet = next(line for line in lines if line.strip().startswith("resnet "))
    assert "res_blocks × R256" in resnet
    for line in lines:  # a summary is cut at a word boundary with "…", never mid-parenthesis silently
        text = line.rsplit("  [", 1)[0]
        assert text.count("(") == text.count(")") or text.endswith("…"), line
    assert main(["list", "metric", "lpips", "--params"]) == 0
    out = capsys.readouterr().out
    assert "net: one of 'alex', 'vgg' = 'alex'" in out and "batch_size: int = 16" in out
