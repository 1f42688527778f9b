"""Neural style transfer: one home for its defaults, a per-step progress bar, both starts."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

from toonkit.cli.main import build_parser
from toonkit.methods.nst import NeuralStyleTransfer
from toonkit.recipe import load_recipe
from toonkit.translate.nst import StyleTransfer

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = {k: p.default for k, p in inspect.signature(NeuralStyleTransfer.__init__).parameters.items()
            if k != "self"}


def test_recipe_and_cli_take_the_methods_defaults() -> None:
    """recipes/nst.yaml said `translate` used its values while the CLI had its own copy: now neither has one."""
    method = load_recipe(REPO / "recipes" / "nst.yaml").to_dict()["method"]
    assert {k: v for k, v in method.items() if k != "type"} in ({}, DEFAULTS)
    args = build_parser().parse_args(["translate", "--method", "nst", "--style", "s.png", "in.png", "-o", "o"])
    assert all(getattr(args, k) is None for k in ("steps", "style_weight", "lr", "init"))  # not set: method's
    help_text = build_parser()._subparsers._group_actions[0].choices["translate"].format_help()
    assert f"({DEFAULTS['steps']})" in help_text and f"({DEFAULTS['style_weight']:g})" in help_text


def test_progress_bar_counts_optimisation_steps(capsys: pytest.CaptureFixture[str]) -> None:
    style = torch.rand(1, 3, 24, 24) * 2 - 1
    st = StyleTransfer(style, size=16, device="cpu", vgg_weights="random", steps=3, progress=True)
    out = st.translate(torch.rand(3, 20, 28) * 2 - 1)
    assert out.shape == (3, 20, 28)  # optimised at short side 16, returned at the input's size
    err = capsys.readouterr().err
    assert "3/3" in err and "style=" in err  # a tick per step, with the losses
    StyleTransfer(style, size=16, device="cpu", vgg_weights="random", steps=3).translate(torch.zeros(3, 16, 16))
    assert "3/3" not in capsys.readouterr().err  # -q


def test_noise_start_is_seeded_and_differs_from_the_photo_start() -> None:
    style = torch.rand(1, 3, 16, 16) * 2 - 1
    photo = torch.zeros(1, 3, 16, 16)
    st = StyleTransfer(style, size=16, device="cpu", vgg_weights="random", steps=1, init="noise")
    noise = [st.generate(photo) for _ in range(2)]
    st.method.init = "photo"
    from_photo = st.generate(photo)
    assert torch.equal(noise[0], noise[1]) and (noise[0] - from_photo).abs().mean() > 0.1
    with pytest.raises(ValueError, match="init must be"):
        NeuralStyleTransfer(init="blank")  # type: ignore[arg-type]
