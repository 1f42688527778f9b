"""``toonkit export``: ONNX and TorchScript files that match eager PyTorch on a briefly trained run."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import toonkit
from toonkit.cli.main import main
from toonkit.translate import export as export_mod

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "quickstart.yaml"
TINY = ["data.demo_n=4", "data.demo_size=40", "data.size=32", "data.load_size=36", "data.batch_size=2",
        "data.workers=0", "nets.generator.base_channels=8", "nets.generator.res_blocks=1",
        "nets.discriminator.base_channels=8", "nets.masker.base_channels=4", "nets.masker.depth=2",
        "train.phases.init.steps=1", "train.phases.masker.steps=2", "train.phases.adversarial.steps=2",
        "train.ema=0.9", "train.device=cpu", "train.sample_every=1000"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick-start recipe at 32² with tiny networks, trained for a few steps of each phase."""
    from toonkit.recipe import load_recipe
    from toonkit.train import train

    out = tmp_path_factory.mktemp("quickstart")
    train(load_recipe(RECIPE, TINY), out, quiet=True)
    return out


def _photo(shape: tuple[int, ...], seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(shape[0], 3, 4, 4, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=shape[-2:], mode="bilinear", align_corners=False)


def test_onnx_parity_with_masker_and_dynamic_sizes(trained: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path = tmp_path / "toon.onnx"
    code = main(["export", str(trained), "--format", "onnx", "-o", str(path), "--dynamic", "--with-masker",
                 "--background", "white"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "max |onnx − pytorch|" in out and "ok: max abs difference" in out
    # the file is what `toonkit translate --background white --size original` computes, at a new size
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["cartoon", "mask"]
    toon = toonkit.load(trained, device="cpu")
    x = _photo((3, 3, 40, 56))
    cartoon, mask = (torch.from_numpy(a) for a in session.run(None, {"photo": x.numpy()}))
    assert cartoon.shape == (3, 3, 40, 56) and mask.shape == (3, 1, 40, 56)
    assert torch.allclose(mask, toon.mask(x), atol=1e-4)
    assert torch.allclose(cartoon, toon.translate_batch(x, "white", "original", colors="style"), atol=1e-4)


def test_onnx_legacy_exporter_fixed_size(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path = tmp_path / "g.onnx"
    assert main(["export", str(trained), "--format", "onnx", "--exporter", "torchscript", "-o", str(path),
                 "--input-size", "32", "48"]) == 0
    out = capsys.readouterr().out
    assert "torchscript exporter" in out and "1×3×32×48" in out


def test_torchscript_parity(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "toon.pt"
    assert main(["export", str(trained), "--format", "torchscript", "-o", str(path), "--dynamic",
                 "--with-masker", "--background", "transparent"]) == 0
    assert "ok: max abs difference" in capsys.readouterr().out
    scripted = torch.jit.load(str(path))
    toon = toonkit.load(trained, device="cpu")
    x = _photo((2, 3, 36, 44))
    with torch.no_grad():
        image, mask = scripted(x)
    expected = toon.translate_batch(x, "transparent", "original", colors="style")  # exports: the model's colours
    assert image.shape == (2, 4, 36, 44)
    assert torch.allclose(image, expected, atol=1e-5)
    assert torch.allclose(image[:, 3:], mask)


def test_a_difference_above_the_tolerance_fails(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    real = export_mod.verify_export

    def off_by_a_bit(*args, **kwargs):
        return [export_mod.Check(c.shape, c.max_abs_diff + 0.01) for c in real(*args, **kwargs)]

    monkeypatch.setattr(export_mod, "verify_export", off_by_a_bit)
    code = main(["export", str(trained), "--format", "torchscript", "-o", str(tmp_path / "g.pt")])
    assert code == 1
    assert "exceeds --tolerance" in capsys.readouterr().err
    assert main(["export", str(trained), "--format", "torchscript", "-o", str(tmp_path / "g.pt"),
                 "--tolerance", "0.1", "--overwrite"]) == 0


def test_export_usage_errors(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .helpers import make_checkpoint

    out = str(tmp_path / "x.pt")
    assert main(["export", str(trained), "--format", "torchscript", "-o", out, "--size", "30", "30"]) == 2
    err = capsys.readouterr().err
    assert "multiples of 4" in err and "--size H W is deprecated, use --input-size" in err
    assert main(["export", str(trained), "--format", "torchscript", "-o", out, "--background", "white"]) == 2
    assert "--with-masker" in capsys.readouterr().err
    plain = make_checkpoint(tmp_path / "plain", method="cartoongan", masker=False)
    assert main(["export", str(plain), "--format", "torchscript", "-o", out, "--with-masker"]) == 2
    assert "no masker" in capsys.readouterr().err


def test_export_never_overwrites_silently_and_reads_the_extension(trained: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "model.pt"
    existing.write_bytes(b"keep me")
    assert main(["export", str(trained), "-o", str(existing)]) == 2
    assert "already exists: pass --overwrite" in capsys.readouterr().err and existing.read_bytes() == b"keep me"
    assert main(["export", str(trained), "--format", "torchscript", "-o", str(tmp_path / "model.onnx")]) == 2
    assert "does not match the file name 'model.onnx'" in capsys.readouterr().err
    assert main(["export", str(trained), "-o", str(tmp_path / "model.bin")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["export", str(trained), "-o", str(existing), "--overwrite"]) == 0  # format from .pt
    assert "torchscript, traced" in capsys.readouterr().out
    torch.jit.load(str(existing))
