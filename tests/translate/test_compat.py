"""Saved models of older formats still load (toonkit._compat), and what is deprecated says when it goes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import toonkit
from toonkit import _compat
from toonkit.pretrained import CONFIG_FILE, WEIGHTS_FILE

from .helpers import make_checkpoint


def _write_v1_folder(toon: toonkit.translate.Cartoonizer, folder: Path, method: str | None = "selfie_gan",
                     size: int | None = 32) -> Path:
    """A model folder as toonkit wrote them before specs: method a name, networks under generator/masker."""
    folder.mkdir()
    nets = {"generator": toon.spec.nets["generator"], "masker": toon.spec.nets["masker"]}
    config = {"format": "toonkit-model-1", "name": "old", "nets": nets, "dtype": "float16",
              **({"method": method} if method else {}), **({"size": size} if size else {})}
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    tensors = {f"{net}/{k}": (v.half() if v.is_floating_point() else v).contiguous()
               for net, module in (("generator", toon.generator), ("masker", toon.masker))
               for k, v in module.state_dict().items()}
    save_file(tensors, str(folder / WEIGHTS_FILE), metadata={"format": "toonkit-model-1"})
    return folder


def test_a_checkpoint_without_a_stored_spec_loads_from_its_recipe(tmp_path: Path) -> None:
    new = toonkit.load(make_checkpoint(tmp_path / "new"), device="cpu", channels_last=False)
    old = toonkit.load(make_checkpoint(tmp_path / "old", spec=False), device="cpu", channels_last=False)
    assert old.spec == new.spec and old.has_masker
    x = torch.rand(1, 3, 32, 40) * 2 - 1
    torch.testing.assert_close(old.translate(x, background="white"), new.translate(x, background="white"))


def test_a_format_1_model_folder_loads_and_saves_in_the_current_format(run_dir: Path, tmp_path: Path) -> None:
    toon = toonkit.load(run_dir, device="cpu", channels_last=False)
    old = toonkit.load(_write_v1_folder(toon, tmp_path / "old"), device="cpu", channels_last=False)
    assert old.spec is not None and old.spec.method == {"type": "selfie_gan"} and old.spec.size == 32
    assert set(old.spec.nets) == {"generator", "masker"} and old.has_masker
    x = torch.rand(1, 3, 32, 40) * 2 - 1
    assert (old.translate(x, background="white") - toon.translate(x, background="white")).abs().max() < 4 / 255
    config = json.loads((old.save_pretrained(tmp_path / "new") / CONFIG_FILE).read_text())
    assert config["format"] == "toonkit-model-2" and config["method"] == {"type": "selfie_gan"}


def test_format_1_defaults_are_read_as_they_were(run_dir: Path, tmp_path: Path) -> None:
    """Format 1 let method default to cartoongan and size to 256: such a folder loads as it always did."""
    toon = toonkit.load(run_dir, device="cpu", channels_last=False)
    folder = _write_v1_folder(toon, tmp_path / "bare", method=None, size=None)
    (folder / WEIGHTS_FILE).unlink()  # cartoongan has no masker: keep the generator's weights only
    save_file({f"generator/{k}": v for k, v in toon.generator.state_dict().items()}, str(folder / WEIGHTS_FILE))
    config = json.loads((folder / CONFIG_FILE).read_text())
    del config["nets"]["masker"]
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    old = toonkit.load(folder, device="cpu")
    assert old.spec.method_name == "cartoongan" and old.size == 256 and not old.has_masker


def test_the_shipped_model_folder_is_the_current_format_and_loads() -> None:
    """handpainted v2 was written by save_pretrained (format 2); format 1 is covered by the folders above."""
    folder = toonkit.get_registry().get("model", "handpainted").factory().folder
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["format"] == "toonkit-model-2" and config["version"] == 2
    toon = toonkit.load("handpainted", device="cpu")
    assert toon.spec.method_name == "selfie_gan" and toon.size == 128 and toon.has_masker
    assert toon.spec.nets["masker"]["type"] == "alexnet_unet"


def test_deprecations_name_their_replacement_and_removal() -> None:
    from toonkit.recipe import recipe_from_dict

    recipe = recipe_from_dict({"method": "cartoongan"})
    with pytest.warns(DeprecationWarning, match=rf"Recipe.data is deprecated, use Recipe.to_dict\(\) .*{_compat.REMOVED_IN}"):
        assert recipe.data == recipe.to_dict()
    with pytest.warns(DeprecationWarning, match=r"toonkit.registry\(\) is deprecated, use toonkit.get_registry\(\)"):
        assert toonkit.registry() is toonkit.get_registry()  # type: ignore[operator]
    assert _compat.REMOVED_IN in _compat.flag_notice("export", "--size")
