"""Fixtures of the demo tests: a tiny Selfie-GAN run (generator and masker) and a real or demo photo."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import toonkit
from toonkit.recipe import recipe_from_dict
from toonkit.train.checkpoint import save_checkpoint

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
GEN = {"type": "cartoongan", "base_channels": 8, "res_blocks": 1}
MASKER = {"type": "unet", "depth": 2, "base_channels": 4}


def make_run(root: Path, masker: bool = True, size: int = 32) -> Path:
    """A run directory with one checkpoint of tiny networks; the masker learns "red is the person"."""
    torch.manual_seed(0)
    nets = {"generator": GEN, **({"masker": MASKER} if masker else {})}
    method = "selfie_gan" if masker else "cartoongan"
    recipe = recipe_from_dict({"name": "tiny", "method": {"type": method}, "data": {"size": size},
                               "nets": nets})
    built = {slot: toonkit.build("generator" if slot == "generator" else "masker", block["type"],
                                 **{k: v for k, v in block.items() if k != "type"})
             for slot, block in nets.items()}
    if masker:  # a few steps, so that masks vary in space (a random masker gives ~0.5 everywhere)
        net = built["masker"].train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(8):
            x = F.interpolate(torch.rand(4, 3, 4, 4) * 2 - 1, size=(size, size), mode="bilinear")
            loss = F.binary_cross_entropy_with_logits(net(x), (x[:, :1] > 0).float())
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
    save_checkpoint(root / "checkpoints", 7, "adversarial", built, {}, recipe.to_yaml())
    return root


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("demo_run"))


@pytest.fixture(scope="session")
def tiny_run_no_masker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("demo_run_nomask"), masker=False)


@pytest.fixture(scope="session")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo from ../shared/data/people, or a demo-set photo when ../shared is absent."""
    people = SHARED / "data" / "people" / "photos"
    if people.is_dir():
        return sorted(people.glob("*.jpg"))[0]
    from toonkit.data.demo import make_demo

    paths = make_demo(tmp_path_factory.mktemp("demo_set"), n=1, size=128, n_test=1)
    return sorted(paths["test_photos"].iterdir())[0]
