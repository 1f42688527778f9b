"""`toonkit run` as a new user meets it: a finished run run again, --overwrite, NST, missing weights."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from toonkit.cli.main import main
from toonkit.data import make_demo
from toonkit.core import checkpoint as ckpt

from .helpers import tiny_recipe

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    make_demo(root, n=6, size=40, seed=0)
    return root


@pytest.fixture
def recipe(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_recipe("selfie_gan", demo, steps=1).to_dict()))
    return path


def test_finished_run_run_again_says_so_and_exits_0(recipe: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    assert main(["run", str(recipe), "--out", str(out), "-q"]) == 0
    import toonkit.train as train_pkg

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(train_pkg, "train", fail)
    capsys.readouterr()
    assert main(["run", str(recipe), "--out", str(out), "-q"]) == 0  # the quick start's `&&` goes on
    printed = capsys.readouterr().out
    assert "already finished" in printed and "step 3" in printed and "--overwrite" in printed


def test_unfinished_or_changed_run_still_asks_for_resume(recipe: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", str(recipe), "--out", str(out), "-q"]) == 0
    capsys.readouterr()
    # the same folder with another recipe (one more step) is not finished for it
    assert main(["run", str(recipe), "--out", str(out), "-q", "train.phases.adversarial.steps=2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds checkpoints" in err[0] and "--resume" in err[0]


def test_overwrite_starts_afresh(recipe: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(recipe), "--out", str(out), "-q"]) == 0
    (out / "mine.txt").write_text("a file of the user's")
    assert main(["run", str(recipe), "--out", str(out), "-q", "--overwrite",
                 "train.phases.adversarial.steps=2"]) == 0
    steps = [int(p.name[5:14]) for p in ckpt.list_checkpoints(out / "checkpoints")]
    assert max(steps) == 4  # 1 + 1 + 2 steps of the new recipe, not a continuation of the old run
    assert (out / "mine.txt").is_file()


def test_resume_and_overwrite_exclude_each_other(recipe: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", str(recipe), "--out", str(tmp_path / "r"), "--resume", "--overwrite"])
    assert exc.value.code == 2


def test_nst_recipe_has_no_training_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", str(REPO / "recipes" / "nst.yaml"), "data.demo=true", "--out", str(tmp_path / "n")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "no training phase" in err[0] and "toonkit translate --method nst" in err[0]
    assert not (tmp_path / "n").exists()


def test_missing_weights_during_run_is_one_line(recipe: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import toonkit.features
    from toonkit.weights import WeightsUnavailableError

    def offline(arch: str) -> dict:
        raise WeightsUnavailableError(f"ImageNet {arch} weights are not available offline: place "
                                      f"{arch}_imagenet_features.safetensors in TOONKIT_WEIGHTS_DIR")

    monkeypatch.setattr(toonkit.features, "imagenet_features_state_dict", offline)
    rc = main(["run", str(recipe), "--out", str(tmp_path / "w"), "-q", "nets.feature.weights=imagenet"])
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("INFO")]
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith("toonkit run: ") and "vgg16_imagenet_features.safetensors" in err[0]
