"""The suite shipped in the package: `toonkit bench` alone runs it, offline, in a fresh checkout."""
from __future__ import annotations

import logging
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import toonkit.bench
from toonkit.bench import load_suite
from toonkit.bench.data import materialise
from toonkit.bench.measure import score
from toonkit.bench.methods import plan_methods
from toonkit.bench.runner import default_out
from toonkit.bench.shipped import DEFAULT_SUITE, find_suite, is_shipped, shipped_suites, suites_dir
from toonkit.cli.main import main
from toonkit.metrics import EvalContext, StyleDistance

#: registered metrics that load no pretrained network
WEIGHTLESS_METRICS = {"background_leakage", "color_drift", "face_redness", "skin_tone"}


def test_default_suite_loads_validates_and_plans_offline(tmp_path: Path) -> None:
    assert DEFAULT_SUITE in shipped_suites()
    path = find_suite(None)
    assert path == suites_dir() / "default.yaml" and is_shipped(path)
    suite = load_suite(path)
    spec = suite.spec
    assert spec.data.demo is not None and not spec.data.photos  # the synthetic set, no data folder
    assert spec.weights_dir is None
    assert {m["type"] for m in suite.metrics} <= WEIGHTLESS_METRICS  # nothing to download
    assert {"selfie_gan", "cartoongan"} <= set(spec.methods)
    assert any(c.method == "selfie_gan" and c.baseline == "cartoongan" for c in spec.claims)
    # its recipes resolve inside the package and take the budget; nothing is trained here
    data = materialise(suite, tmp_path / "work")
    plans = {p.name: p for p in plan_methods(suite, data, tmp_path / "work")}
    assert plans["selfie_gan"].kind == plans["cartoongan"].kind == "train"
    for name in ("selfie_gan", "cartoongan"):
        recipe = plans[name].recipe
        assert recipe is not None and recipe.spec.data.size == spec.budget.size
        assert recipe.spec.nets["feature"]["weights"] == "random"
    assert "masker" in plans["selfie_gan"].recipe.spec.nets and "masker" not in plans["cartoongan"].recipe.spec.nets
    assert sum(plans["selfie_gan"].phase_steps.values()) <= 400  # a few minutes on a CPU


@pytest.mark.parametrize("argv", [["bench"], ["bench", "default"]])
def test_bench_without_a_suite_runs_the_shipped_default(argv: list[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a folder without any suite file: a fresh checkout's view
    calls: list[tuple[Path, str]] = []

    def fake_run_suite(suite: Path, out: object = None, command: str = "", **kwargs: object) -> SimpleNamespace:
        calls.append((Path(suite), command))
        return SimpleNamespace(out=default_out(load_suite(suite)), results=[], wall_s=0.0)

    monkeypatch.setattr(toonkit.bench, "run_suite", fake_run_suite)
    assert main(argv) == 0
    ((suite, command),) = calls
    assert suite == suites_dir() / "default.yaml"
    assert command == " ".join(["toonkit", *argv])
    # results go to the current folder, never into the installed package
    assert default_out(load_suite(suite)) == Path("runs") / "bench" / "default"


def test_unknown_suite_names_the_shipped_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "defualt"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "suite file not found: defualt" in err and "did you mean 'default'" in err


def test_missing_weights_are_said_once_with_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A fresh machine without network: no TOONKIT_WEIGHTS_DIR, an empty hub cache, a download that fails."""
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    attempts: list[str] = []

    def offline(url: str, *args: object, **kwargs: object) -> None:
        attempts.append(url)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    images = torch.rand(4, 3, 32, 32) * 2 - 1
    ctx = EvalContext(inputs=images, outputs=images, references=images)
    metric = StyleDistance(backend="vgg16")
    with caplog.at_level(logging.WARNING, logger="toonkit.bench"):
        rows = [score([metric], ctx, method) for method in ("selfie_gan", "cartoongan")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]  # one line, not one per method
    assert "download failed" in warnings[0] and "TOONKIT_WEIGHTS_DIR" in warnings[0]
    assert "vgg16_imagenet_features.safetensors" in warnings[0]
    assert len(attempts) == 1  # the second method does not wait on the network again
    for row, notes in rows:  # every method's report says why the columns are empty
        assert all(v != v for v in row.values()) and "FD-VGG16" in row  # NaN
        assert len(notes) == 1 and notes[0].startswith("style_distance: not computed")


@pytest.mark.slow  # trains two small models (about a CPU-minute with one thread)
def test_default_bench_runs_offline_in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`toonkit bench` as a fresh checkout runs it: no data folder, no weights, no network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR", raising=False)

    def no_download(url: str, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"the default suite downloaded {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    assert main(["bench", "-q"]) == 0
    out = tmp_path / "runs" / "bench" / "default"
    report = (out / "report.md").read_text()
    assert "not computed" not in report  # every metric it names needs no weights
    assert "selfie_gan against cartoongan:" in report and "| command | `toonkit bench` |" in report  # -q changes no result: not recorded
    rows = (out / "results.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["photo", "stylization", "selfie_gan", "cartoongan"]
    assert (out / "grid.png").is_file()
