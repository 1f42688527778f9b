"""`toonkit bench` end to end on the smoke suite, resumption, and the claim statement."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import toonkit
from toonkit.bench.report import claim_lines
from toonkit.bench.suite import Claim
from toonkit.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "benchmarks" / "suite_smoke.yaml"
# animegan is a plugin method: without toonkit-animegan (a fresh clone) the bench skips it and says so
HAS_ANIMEGAN = ("method", "animegan") in toonkit.get_registry()
METHODS = (["photo", "stylization", "selfie_gan", "cartoongan", "cyclegan", "pix2pix_outline", "nst"]
           + (["animegan"] if HAS_ANIMEGAN else []))
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
    filters = ("photo", "stylization")
    for r in rows:  # metrics that need no pretrained weights are always computed
        assert 0 <= float(r["leakage"]) < 1 and float(r["dE2000"]) >= 0
        assert float(r["img_per_s_b1"]) > 0
        assert (r["gflops"] in ("", "nan")) if r["method"] in filters else float(r["gflops"]) > 0
    photo = next(r for r in rows if r["method"] == "photo")
    assert float(photo["dE2000"]) == 0 and float(photo["skin_dL*"]) == 0  # the zero point moves nothing
    trained = [r for r in rows if r["method"] not in ("nst",) + filters]
    assert all(float(r["train_s_per_step_adversarial"]) > 0 for r in trained)
    grid = Image.open(smoke_out / "grid.png")
    assert grid.size[0] > 128 * (1 + len(METHODS)) and grid.size[1] == 22 + 128 * 4  # labels, input + 6; 4 rows
    report = (smoke_out / "report.md").read_text()
    for text in ("| device | CPU", "| commit |", "toonkit bench", "| budget | 32² crops", "init 2, masker 2, adversarial 3",
                 "selfie_gan against cartoongan: better on", "95 % CI [", "### background_leakage",
                 "leakage_rel", "![outputs](grid.png)", "## Distance from doing nothing",
                 "| stylization |", "## Skin tone by ITA° group"):
        assert text in report, text
    assert "beats" not in report and "**0 MiB" not in report and "± 0 " not in report
    cached = json.loads((smoke_out / "work" / "results" / "selfie_gan.json").read_text())
    assert len(cached["per_image"]["leakage"]) == 4 and len(cached["per_image"]["dE2000"]) == 4
    assert str(smoke_out) not in report.split("| command |")[0]  # no machine paths before the command
    assert ("animegan: skipped, plugin toonkit-animegan not installed" in report) != HAS_ANIMEGAN
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


@slow
def test_methods_option_evaluates_and_reports_only_those(smoke_out: Path) -> None:
    assert main(["bench", str(SMOKE), "--out", str(smoke_out), "--methods", "cartoongan,nst"]) == 0
    with open(smoke_out / "results.csv", newline="") as fh:
        assert [r["method"] for r in csv.DictReader(fh)] == ["cartoongan", "nst"]
    report = (smoke_out / "report.md").read_text()
    assert "selfie_gan against cartoongan: not evaluated in this report (selfie_gan left out)." in report
    assert "--methods cartoongan,nst" in report  # the command that reproduces it


def test_methods_option_names_the_suites_methods(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(SMOKE), "--methods", "cartoongn"]) == 2
    err = capsys.readouterr().err
    assert "--methods: no method 'cartoongn'" in err and "did you mean 'cartoongan'?" in err
    assert "(methods: photo, stylization, selfie_gan, cartoongan," in err


def _fake_result(rows: dict[str, dict[str, list[float]]], claims: list[Claim] | None = None,
                 seeds: dict[str, int] | None = None) -> SimpleNamespace:
    """A bench result whose methods have the given per-photo values (the row holds their means)."""
    metrics = [toonkit.build("metric", "background_leakage"), toonkit.build("metric", "color_drift")]
    recipe = lambda n: SimpleNamespace(spec=SimpleNamespace(train=SimpleNamespace(seed=(seeds or {}).get(n, 0))))  # noqa: E731
    results = [SimpleNamespace(plan=SimpleNamespace(name=n, recipe=recipe(n)), per_image=per,
                               row={c: float(np.nanmean(v)) if v else math.nan for c, v in per.items()})
               for n, per in rows.items()]
    spec = SimpleNamespace(claims=claims or [Claim(method="selfie_gan", baseline="cartoongan")],
                           budget=SimpleNamespace(seed=0))
    n = max(len(v) for per in rows.values() for v in per.values())
    return SimpleNamespace(results=results, metrics=metrics, suite=SimpleNamespace(spec=spec), stems=["a"] * n)


def test_claim_needs_an_interval_that_excludes_zero() -> None:
    rng = np.random.default_rng(1)
    base = list(rng.uniform(0.02, 0.08, 8))
    noisy = [v * (1 + e) for v, e in zip(base, rng.normal(0, 0.05, 8))]  # ~0.3 % apart on average, not better
    clearly = [v - 0.01 + e for v, e in zip(base, rng.normal(0, 0.001, 8))]  # 0.01 lower on every photo
    lines = claim_lines(_fake_result({"selfie_gan": {"leakage": clearly, "dE2000": noisy},
                                      "cartoongan": {"leakage": base, "dE2000": base}}))
    assert lines[0] == "selfie_gan against cartoongan: better on 1, worse on 0, no difference established on 1 of these 2 measures:"
    assert "**selfie_gan is lower than cartoongan by 0.0099" in lines[1] and "(95 % CI [0.009" in lines[1]
    assert "so selfie_gan is better here" in lines[1]
    assert "no difference established (95 % CI [-" in lines[2] and "includes 0" in lines[2]
    assert "beats" not in "\n".join(lines) and "**" not in lines[2]
    assert "1000 resamples of the 8 test photos" in lines[-1]
    # the same numbers without per-photo values (or with one photo) state nothing
    lines = claim_lines(_fake_result({"selfie_gan": {"leakage": [0.1], "dE2000": []},
                                      "cartoongan": {"leakage": [0.05], "dE2000": [1.0]}}))
    assert lines[0].endswith("no difference established on 2 of these 2 measures:")
    assert "fewer than two photos" in lines[1] and "cannot be compared" in lines[2]


def test_a_claims_share_of_the_baseline_is_given_only_when_it_means_something() -> None:
    from toonkit.bench.claims import claim_line

    base = [1.0, 1.2, 0.8, 1.1, 0.9, 1.0]
    lower = [v - 0.05 for v in base]  # 5 % lower on every photo
    line, better = claim_line("a", "b", "leakage", False, float(np.mean(lower)), float(np.mean(base)), lower, base)
    assert better and "5 % of b's value" in line
    much = [v * 0.1 for v in base]  # 90 % lower: a whole number, never "9e+01"
    line, _ = claim_line("a", "b", "leakage", False, float(np.mean(much)), float(np.mean(base)), much, base)
    assert "90 % of b's value" in line and "e+" not in line
    reds = [v + 0.6 for v in base]  # a signed change: -1 (less red) against +1.6 (redder)
    bluer = [-v for v in base]
    line, better = claim_line("a", "b", "face redness", False, float(np.mean(bluer)), float(np.mean(reds)), bluer,
                              reds)
    assert better and "% of" not in line


def test_claims_say_which_seeds_they_compare() -> None:
    per = {"leakage": [0.1, 0.2, 0.3], "dE2000": [1.0, 2.0, 3.0]}
    one = claim_lines(_fake_result({"selfie_gan": per, "cartoongan": per}))
    assert one[-1].endswith("one training run per method (seed 0) under the budget above, and the spread "
                            "between training seeds is not measured.")
    claims = [Claim(method="s0", baseline="c0"), Claim(method="s1", baseline="c1"), Claim(method="s2", baseline="c2")]
    lines = claim_lines(_fake_result({n: per for n in ("s0", "c0", "s1", "c1")}, claims,
                                     seeds={"s1": 1, "c1": 1}))
    assert "s2 against c2: not evaluated in this report (s2 and c2 left out)." in lines
    assert "(seeds: s0 0, c0 0; s1 1, c1 1)" in lines[-1] and "repeated with other seeds" in lines[-1]


def test_paired_bootstrap_is_paired_and_reproducible() -> None:
    from toonkit.bench.claims import paired_bootstrap

    photos = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]  # large spread between photos, constant gap of 1
    iv = paired_bootstrap([p + 1 for p in photos], photos)
    assert (iv.mean, iv.low, iv.high, iv.excludes_zero) == (1.0, 1.0, 1.0, True)
    a, b = [1.0, 3.0, 2.0, 5.0, math.nan], [2.0, 1.0, 2.5, 4.0, 1.0]
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b) and paired_bootstrap(a, b).n == 4
    assert not paired_bootstrap(a, b).excludes_zero


def test_report_names_the_methods_that_change_the_budget() -> None:
    from toonkit.bench.report import _budget_text

    def result(overrides: dict[str, list[str]]) -> SimpleNamespace:
        budget = SimpleNamespace(size=128, load_size=144, batch_size=4, steps={"init": 200, "adversarial": 500},
                                 amp="bf16", seed=0)
        methods = {n: SimpleNamespace(overrides=o) for n, o in overrides.items()}
        return SimpleNamespace(suite=SimpleNamespace(spec=SimpleNamespace(budget=budget, methods=methods)),
                               results=[SimpleNamespace(plan=SimpleNamespace(name=n, kind="train")) for n in overrides])

    assert _budget_text(result({"a": [], "b": ["nets.generator.res_blocks=4"]})).endswith(
        "seed 0, same for every trained method")
    text = _budget_text(result({"a": [], "b": ["nets.generator.res_blocks=4", "train.phases.adversarial.steps=1200"],
                                "c": ["train.seed=1"]}))
    assert text.endswith("override part of it: b (train.phases.adversarial.steps=1200); c (train.seed=1)")
