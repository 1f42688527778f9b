"""`toonkit bench` end to end on the smoke suite, resumption, and the claim statement."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

import toonkit
from toonkit.bench.report import claim_lines
from toonkit.bench.suite import Claim
from toonkit.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "benchmarks" / "suite_smoke.yaml"
METHODS = ["selfie_gan", "cartoongan", "cyclegan", "pix2pix_outline", "nst", "animegan"]
slow = pytest.mark.slow  # trains every method of the smoke suite for a few steps (about a minute)


@pytest.fixture(scope="module")
def smoke_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke suite run once through the CLI (trains every method for a few steps)."""
    out = tmp_path_factory.mktemp("bench") / "smoke"
    assert main(["bench", str(SMOKE), "--out", str(out)]) == 0
    return out


@slow
def test_smoke_suite_writes_every_report_file(smoke_out: Path) -> None:
    for name in ("report.md", "results.csv", "grid.png", "plots/training_losses.png",
                 "plots/speed_vs_quality.png", "plots/metric_leakage.png", "plots/metric_de2000.png"):
        assert (smoke_out / name).is_file(), name
    with open(smoke_out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["method"] for r in rows] == METHODS
    for r in rows:  # metrics that need no pretrained weights are always computed
        assert 0 <= float(r["leakage"]) < 1 and float(r["dE2000"]) >= 0
        assert float(r["img_per_s_b1"]) > 0 and float(r["gflops"]) > 0
    trained = [r for r in rows if r["method"] != "nst"]
    assert all(float(r["train_s_per_step_adversarial"]) > 0 for r in trained)
    grid = Image.open(smoke_out / "grid.png")
    assert grid.size == (128 * (1 + len(METHODS)), 22 + 128 * 4)  # input + 6 methods; 4 rows
    report = (smoke_out / "report.md").read_text()
    for text in ("| device | CPU", "| commit |", "toonkit bench", "| budget | 32² crops", "init 2, masker 2, adversarial 3",
                 "selfie_gan beats cartoongan" if "beats cartoongan on every" in report else "cartoongan",
                 "### background_leakage", "![outputs](grid.png)"):
        assert text in report, text
    assert str(smoke_out) not in report.split("| command |")[0]  # no machine paths before the command
    assert not any(p.suffix in (".safetensors", ".pt") for p in smoke_out.glob("*"))  # weights only in work/


@slow
def test_second_run_trains_and_evaluates_nothing(smoke_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import toonkit.train as train_pkg
    from toonkit.bench import run_suite

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(train_pkg, "train", fail)
    result = run_suite(SMOKE, out=smoke_out)
    assert result.trained == [] and all(r.cached for r in result.results)


@slow
def test_interrupted_bench_resumes_only_unfinished_methods(smoke_out: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A method whose training never finished (no done marker) is resumed; finished ones are skipped."""
    import toonkit.train as train_pkg
    from toonkit.bench import run_suite
    from toonkit.bench.methods import DONE_FILE

    (smoke_out / "work" / "runs" / "cartoongan" / DONE_FILE).unlink()
    calls: list[tuple[str, bool]] = []
    real = train_pkg.train

    def spy(recipe: object, out: Path, resume: bool = False, quiet: bool = False) -> Path:
        calls.append((Path(out).name, resume))
        return real(recipe, out, resume=resume, quiet=quiet)

    monkeypatch.setattr(train_pkg, "train", spy)
    result = run_suite(SMOKE, out=smoke_out)
    assert calls == [("cartoongan", True)]  # resumed from its checkpoint, nothing else trained
    assert result.trained == ["cartoongan"]
    assert [r.plan.name for r in result.results if not r.cached] == []  # same checkpoint: cached results


def _fake_result(rows: dict[str, dict[str, float]]) -> SimpleNamespace:
    metrics = [toonkit.build("metric", "background_leakage"), toonkit.build("metric", "color_drift")]
    results = [SimpleNamespace(plan=SimpleNamespace(name=n), row=r) for n, r in rows.items()]
    spec = SimpleNamespace(claims=[Claim(method="selfie_gan", baseline="cartoongan")],
                           budget=SimpleNamespace(seed=0))
    return SimpleNamespace(results=results, metrics=metrics, suite=SimpleNamespace(spec=spec), stems=["a"] * 8)


def test_claim_is_computed_from_the_numbers() -> None:
    lines = claim_lines(_fake_result({"selfie_gan": {"leakage": 0.02, "dE2000": 9.0},
                                      "cartoongan": {"leakage": 0.05, "dE2000": 6.0}}))
    assert lines[0] == "In this run, selfie_gan beats cartoongan on 1 of these 2 measures:"
    assert "**selfie_gan beats cartoongan**: 0.02 vs 0.05, 0.03 lower (60 % of cartoongan's value)" in lines[1]
    assert "**selfie_gan does not beat cartoongan**: 9.00 vs 6.00, 3.00 higher (50 % of cartoongan's value)" in lines[2]
    lines = claim_lines(_fake_result({"selfie_gan": {"leakage": 0.1, "dE2000": 9.0},
                                      "cartoongan": {"leakage": 0.05, "dE2000": math.nan}}))
    assert lines[0] == "In this run, selfie_gan beats cartoongan on none of these measures:"
    assert "cannot be compared" in lines[2]
