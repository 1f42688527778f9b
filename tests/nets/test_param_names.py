"""One parameter name per idea across networks, and the old names still working for one release."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import yaml

import toonkit
from toonkit.recipe import recipe_from_dict

NET_KINDS = ("generator", "discriminator", "masker")
# the names the renamed parameters had: none of them may be declared by a network any more
OLD_NAMES = {"ndf", "ngf", "n_blocks", "num_downs"}
RENAMED = [("discriminator", "patchgan", "ndf", "base_channels", 8),
           ("generator", "resnet", "n_blocks", "res_blocks", 1),
           ("generator", "unet", "num_downs", "depth", 3)]


def _n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_networks_share_one_name_per_idea() -> None:
    for kind in NET_KINDS:
        for entry in toonkit.list_components(kind):  # plugins' networks included
            names = {p.name for p in entry.params}
            assert not names & OLD_NAMES, (kind, entry.name, names & OLD_NAMES)
            # a width parameter, when there is one, is called base_channels
            assert not {n for n in names if n.endswith(("channels", "width")) and n != "base_channels"
                        and not n.startswith(("in_", "out_"))}, (kind, entry.name)


@pytest.mark.parametrize(("kind", "name", "old", "new", "value"), RENAMED)
def test_old_name_builds_the_same_network_with_a_warning(kind: str, name: str, old: str, new: str,
                                                         value: int) -> None:
    entry = toonkit.get_registry().get(kind, name)
    assert entry.renamed == {old: new} and entry.param(old) is None  # listed under the new name only
    with pytest.warns(DeprecationWarning, match=f"{kind} '{name}': parameter '{old}' is deprecated, use '{new}'"):
        old_net = toonkit.build(kind, name, **{old: value})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new name does not warn
        new_net = toonkit.build(kind, name, **{new: value})
    assert _n_params(old_net) == _n_params(new_net) != _n_params(toonkit.build(kind, name))


def test_old_name_recipe_validates_to_the_new_name() -> None:
    with pytest.warns(DeprecationWarning, match="nets.generator: generator 'resnet': parameter 'n_blocks'"):
        recipe = recipe_from_dict({"method": {"type": "cyclegan"}, "nets": {
            "generator": {"type": "resnet", "n_blocks": 2},
            "discriminator": {"type": "patchgan", "ndf": 16}}}, "old.yaml")
    nets = recipe.to_dict()["nets"]
    assert nets["generator"]["res_blocks"] == 2 and "n_blocks" not in nets["generator"]
    assert nets["discriminator"]["base_channels"] == 16 and "ndf" not in nets["discriminator"]
    assert nets["generator_ba"]["res_blocks"] == 9  # untouched blocks resolve with the new names too


def test_old_name_values_are_still_checked() -> None:
    from toonkit.recipe import RecipeError

    with pytest.raises(RecipeError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        recipe_from_dict({"method": {"type": "cyclegan"},
                          "nets": {"generator": {"type": "resnet", "n_blocks": "many"}}}, "old.yaml")
    assert any(p.startswith("old.yaml: nets.generator.res_blocks: ") for p in err.value.problems)


def test_checkpoint_whose_recipe_has_old_names_loads(tmp_path: Path) -> None:
    """A run saved before the rename embeds its recipe with the old names: it still loads."""
    from toonkit.core.checkpoint import save_checkpoint

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        generator = toonkit.build("generator", "unet", base_channels=4, num_downs=3, dropout=False)
    old_recipe = {"name": "old", "method": {"type": "pix2pix"}, "data": {"size": 32},
                  "nets": {"generator": {"type": "unet", "base_channels": 4, "num_downs": 3, "dropout": False,
                                         "norm": "batch"},
                           "discriminator": {"type": "patchgan", "ndf": 4, "n_layers": 2, "in_channels": 6}}}
    save_checkpoint(tmp_path / "run" / "checkpoints", 3, "adversarial", {"generator": generator}, {},
                    yaml.safe_dump(old_recipe))
    with pytest.warns(DeprecationWarning, match="parameter 'num_downs' is deprecated, use 'depth'"):
        toon = toonkit.load(str(tmp_path / "run"), device="cpu")
    net = toon.generator.float()  # bf16 on a CPU, maybe: compare in float32
    assert net.size_multiple == 8  # depth 3, from the old num_downs
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(net(image), generator.eval()(image))
