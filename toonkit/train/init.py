"""``init:`` in a recipe: start training from the weights of a saved model instead of from scratch.

Fine-tuning a shipped model on a new style needs its generator (and masker) as the starting point:
``init: handpainted`` (a registered model), ``init: runs/x`` (a run, its ``checkpoints/`` folder or one
checkpoint file; the generator's EMA weights when the run has them) or ``init: path/to/model`` (a model
folder). Every network of the recipe that the source holds starts from the source's weights; the others
(a discriminator a model folder does not store) start from their initialisation. Only a fresh run is
initialised: a resumed run continues from its own checkpoints.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from toonkit.recipe import RecipeError

log = logging.getLogger("toonkit.train")


def _model_folder(source: str) -> Path | None:
    """The model folder ``source`` names (a path or a registered model name), or None."""
    from toonkit.pretrained import CONFIG_FILE, WEIGHTS_FILE, PretrainedModel

    path = Path(source).expanduser()
    if path.is_dir() and (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file():
        return path
    if path.exists():
        return None
    from toonkit.plugins import get_registry

    registry = get_registry()
    if ("model", source) in registry:
        model = registry.get("model", source).factory()
        if isinstance(model, PretrainedModel):
            return model.folder
    return None


def init_weights(source: str, where: str) -> dict[str, dict[str, torch.Tensor]]:
    """The network weights ``source`` holds, ``{net: state dict}`` in float32.

    Raises:
        RecipeError: one line (``<where>: init: ...``) when ``source`` names nothing loadable.
    """
    from safetensors import safe_open

    from toonkit.core.checkpoint import CheckpointError, read_checkpoint
    from toonkit.pretrained import WEIGHTS_FILE

    folder = _model_folder(source)
    if folder is not None:
        weights: dict[str, dict[str, torch.Tensor]] = {}
        try:
            with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as fh:
                for key in fh.keys():
                    net, _, param = key.partition("/")
                    weights.setdefault(net, {})[param] = fh.get_tensor(key).float()
        except Exception as exc:  # noqa: BLE001 - a damaged file is one clear line
            raise RecipeError([f"{where}: init: {folder / WEIGHTS_FILE} is not a readable model ({exc})"]) from None
        return weights
    if not Path(source).expanduser().exists():
        from toonkit.plugins import get_registry
        from toonkit.registry import did_you_mean

        models = [e.name for e in get_registry().list("model")]
        raise RecipeError([f"{where}: init: {source!r} is no run, checkpoint or model folder, and no registered "
                           f"model{did_you_mean(source, models)} (models: {', '.join(models) or 'none'})"])
    try:
        ckpt = read_checkpoint(Path(source).expanduser())
    except CheckpointError as exc:
        raise RecipeError([f"{where}: init: {exc}"]) from None
    return {net: {k: v.float() for k, v in ckpt.weights(net).items()} for net in ckpt.nets}


def apply_init(nets: dict[str, nn.Module], source: str, where: str) -> list[str]:
    """Load ``source``'s weights into the networks it has; returns the names of the networks loaded.

    Raises:
        RecipeError: a network the source holds does not match the recipe's (another architecture), or the
            source holds none of the recipe's networks.
    """
    weights = init_weights(source, where)
    loaded = []
    for name, module in nets.items():
        if name not in weights:
            continue
        try:
            module.load_state_dict(weights[name])
        except RuntimeError as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise RecipeError([f"{where}: init: {source}: network '{name}' does not match the recipe's "
                               f"nets.{name} ({first}); give the recipe the source's network settings"]) from None
        loaded.append(name)
    if not loaded:
        raise RecipeError([f"{where}: init: {source} holds none of the recipe's networks "
                           f"({', '.join(nets)}; it has {', '.join(weights) or 'none'})"])
    log.info("initialised %s from %s", ", ".join(loaded), source)
    return loaded
