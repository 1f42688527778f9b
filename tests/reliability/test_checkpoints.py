"""No bad checkpoint is trusted: non-finite weights are never written or used, ``--resume`` falls back
past damaged checkpoints (saying which) or says in one line why it cannot, temporaries of killed writes
are cleaned up and never block a plain run."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import yaml

import toonkit
from toonkit.cli.main import main
from toonkit.data import make_demo
from toonkit.recipe import recipe_from_dict
from toonkit.core import checkpoint as ckpt
from toonkit.train.trainer import train

from .helpers import tiny_run, train_recipe


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    make_demo(root, n=4, size=32, n_test=0)
    return root


@pytest.fixture(scope="module")
def trained(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained 2 + 2 steps with a checkpoint at every step (step_1 .. step_4)."""
    out = tmp_path_factory.mktemp("trained") / "run"
    train(recipe_from_dict(train_recipe(demo)), out, quiet=True)
    assert len(ckpt.list_checkpoints(out)) == 4
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(run, dest)
    return dest


def test_non_finite_weights_are_never_saved(tmp_path: Path) -> None:
    gen = toonkit.build("generator", "cartoongan", base_channels=4, res_blocks=1)
    ckpt.save_checkpoint(tmp_path, 1, "p", {"generator": gen}, {}, "name: x\n", keep=1)
    with torch.no_grad():
        next(gen.parameters())[0] = float("nan")
    with pytest.raises(ckpt.NonFiniteWeightsError, match="generator/"):
        ckpt.save_checkpoint(tmp_path, 2, "p", {"generator": gen}, {}, "name: x\n", keep=1)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step_000000001.safetensors"]  # not pruned


def _poison(file: Path) -> None:
    """Rewrite a checkpoint with an infinite weight, as a diverged run would have written it before."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(file), "pt") as fh:
        meta, tensors = fh.metadata(), {k: fh.get_tensor(k) for k in fh.keys()}
    key = next(k for k, v in tensors.items() if v.is_floating_point())
    tensors[key] = torch.full_like(tensors[key], float("inf"))
    save_file(tensors, str(file), metadata=meta)


def test_translate_refuses_non_finite_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tiny_run(tmp_path / "run")
    _poison(ckpt.list_checkpoints(run)[-1])
    from PIL import Image

    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    assert main(["translate", str(run), str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("toonkit translate:")]
    assert "Traceback" not in err and len(lines) == 1 and "non-finite" in lines[0]
    assert not (tmp_path / "out" / "a.png").exists()


def test_malformed_metadata_is_one_error(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"generator/w": torch.zeros(1)}, str(tmp_path / "step_000000001.safetensors"),
              metadata={"format": "toonkit-1", "step": "many"})
    with pytest.raises(ckpt.CheckpointError, match="malformed"):
        ckpt.read_checkpoint(tmp_path)


def test_diverged_training_stops_naming_a_finite_checkpoint(demo: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.methods.context import NonFiniteLossError
    from toonkit.train.trainer import Trainer

    real_save = Trainer.save

    def diverge_after_two(self, phase, index, step, groups):  # type: ignore[no-untyped-def]
        if self.global_step >= 3:  # weights blow up while the loss is still finite
            with torch.no_grad():
                next(self.raw_nets["generator"].parameters()).fill_(float("inf"))
        return real_save(self, phase, index, step, groups)

    monkeypatch.setattr(Trainer, "save", diverge_after_two)
    out = tmp_path / "run"
    with pytest.raises(NonFiniteLossError) as info:
        train(recipe_from_dict(train_recipe(demo, keep_checkpoints=1)), out, quiet=True)
    named = Path(str(info.value).rsplit("Last good checkpoint: ", 1)[1])
    assert named == ckpt.list_checkpoints(out)[-1]
    ckpt.read_checkpoint(named)  # finite: it reads
    assert ckpt.read_checkpoint(out).step == 2


@pytest.mark.parametrize("damage", ["truncate", "drop_state", "nan"])
def test_resume_falls_back_past_a_damaged_newest(trained: Path, tmp_path: Path, demo: Path, damage: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    run = _copy(trained, tmp_path)
    newest = ckpt.list_checkpoints(run)[-1]
    if damage == "truncate":
        newest.write_bytes(newest.read_bytes()[:100])
    elif damage == "drop_state":
        newest.with_name(newest.name.replace(".safetensors", ".state.pt")).unlink()
    else:
        _poison(newest)
    recipe = recipe_from_dict(train_recipe(demo, steps=3))
    with caplog.at_level(logging.INFO, logger="toonkit.train"):
        train(recipe, run, resume=True, quiet=True)
    assert f"{newest.name} is unusable" in caplog.text
    assert "resuming from step_000000003.safetensors" in caplog.text
    assert ckpt.read_checkpoint(run).step == 5  # step 3 + the 2 adversarial steps left of 3


def test_resume_with_a_changed_network_says_why(trained: Path, tmp_path: Path, demo: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    run = _copy(trained, tmp_path)
    data = train_recipe(demo)
    data["nets"]["generator"]["base_channels"] = 8
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    assert main(["run", str(tmp_path / "r.yaml"), "--out", str(run), "--resume", "-q"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("toonkit run:")]
    assert "Traceback" not in err and len(lines) == 1
    assert "can be resumed" in lines[0] and "does not match" in lines[0]


def test_temporaries_of_a_killed_first_write_do_not_block_a_plain_run(demo: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    leftover = run / "checkpoints" / ".step_000000001.safetensors.tmp-999999999-abc"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a checkpoint")
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(train_recipe(demo, steps=1)))
    assert main(["run", str(tmp_path / "r.yaml"), "--out", str(run), "-q"]) == 0
    assert not leftover.exists()
    assert [p.name for p in ckpt.list_checkpoints(run)][-1] == "step_000000002.safetensors"
