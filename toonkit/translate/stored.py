"""Reading saved models: a model folder or a run's checkpoint → its :class:`~toonkit.methods.spec.ModelSpec`
and its weights by slot (:class:`StoredModel`), which :func:`~toonkit.methods.spec.load_method` turns
back into the method; and :func:`load_masker`, a masker from any of them (or a weights file, or a name).

Both kinds of file go through :func:`~toonkit.methods.spec.read_spec` for their spec; files of older
formats are upgraded first (:mod:`toonkit._compat`). :meth:`Cartoonizer.from_pretrained
<toonkit.translate.api.Cartoonizer.from_pretrained>` (:func:`toonkit.load`) reads models this way.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from toonkit import _compat
from toonkit.core.checkpoint import read_checkpoint
from toonkit.errors import describe_error, first_line
from toonkit.methods.assemble import method_class
from toonkit.methods.base import Method
from toonkit.methods.spec import ModelSpec, build_net, load_method, read_spec
from toonkit.plugins import get_registry
from toonkit.pretrained import CONFIG_FILE, WEIGHTS_FILE
from toonkit.translate.errors import TranslateError
from toonkit.translate.pretrained import MODEL_FORMAT, resolve_model

log = logging.getLogger("toonkit.translate")

Weights = dict[str, dict[str, torch.Tensor]]
#: the masker a bare weights file (``--masker FILE.safetensors``) is built as when nothing says otherwise
DEFAULT_MASKER = {"type": "unet"}


@dataclass(frozen=True)
class StoredModel:
    """A saved model as read from disk.

    Attributes:
        spec: what the model is.
        weights: state dicts by ``nets`` slot (a checkpoint's EMA copy of a network when asked for).
        path: the checkpoint file or model folder read.
        label: what it is, for messages and reports (``run/checkpoints/step_…safetensors (step 7,
            selfie_gan, EMA)``, ``handpainted (…/handpainted)``).
        step, phase: the training step and phase a checkpoint was saved at (None for a model folder).
        recipe: a checkpoint's resolved recipe (None for a model folder).
        info: a model folder's other ``config.json`` fields (name, dtype, training facts).
    """

    spec: ModelSpec
    weights: Weights
    path: Path
    label: str
    step: int | None = None
    phase: str | None = None
    recipe: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)


def read_model(source: str | Path, ema: bool = True) -> StoredModel:
    """The saved model ``source`` names: a registered model, a model folder, ``hf://owner/name``, a run
    directory, its ``checkpoints/`` directory or a checkpoint file.

    Args:
        source: see above.
        ema: for runs and checkpoints, the generator's EMA weights when the checkpoint has them (a model
            folder holds the weights it was saved with).

    Raises:
        TranslateError: ``source`` names nothing loadable (the message lists close model names).
        CheckpointError: a run or checkpoint that cannot be read.
        ModelError: a stored spec that is invalid.
    """
    folder = resolve_model(source)
    if folder is not None:
        return read_folder(folder)
    path = Path(source).expanduser()
    if not path.exists():
        from toonkit.registry import did_you_mean

        models = [e.name for e in get_registry().list("model")]
        raise TranslateError(f"{source}: no such run, checkpoint or model folder, and no registered model of "
                             f"that name{did_you_mean(str(source), models)} (models: {', '.join(models) or 'none'})")
    return read_run(path, ema=ema)


def read_run(path: str | Path, ema: bool = True) -> StoredModel:
    """A run's newest checkpoint (or the checkpoint file ``path``) as a :class:`StoredModel`."""
    ckpt = read_checkpoint(path)
    recipe = ckpt.recipe or {}
    stored = ckpt.model if ckpt.model is not None else _compat.checkpoint_spec(recipe)
    spec = read_spec(stored, str(ckpt.path))
    generator = spec.method_class().roles.generator
    weights = dict(ckpt.nets)
    used_ema = ema and generator in ckpt.ema
    if used_ema:
        weights[generator] = ckpt.ema[generator]
    label = f"{ckpt.path} (step {ckpt.step}, {spec.method_name}{', EMA' if used_ema else ''})"
    return StoredModel(spec, weights, ckpt.path, label, step=ckpt.step, phase=ckpt.phase, recipe=recipe)


def read_folder(folder: str | Path) -> StoredModel:
    """A model folder (``config.json`` + ``model.safetensors``) as a :class:`StoredModel`; weights are
    cast to float32."""
    folder = Path(folder)
    config, renames = _read_config(folder / CONFIG_FILE)
    spec = read_spec(config, str(folder / CONFIG_FILE))
    weights = _read_weights(folder / WEIGHTS_FILE, renames)
    info = {k: v for k, v in config.items() if k not in spec.to_dict()}
    name = info.get("name") if isinstance(info.get("name"), str) and info.get("name") else folder.name
    return StoredModel(spec, weights, folder, f"{name} ({folder})", info=info)


def _read_config(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """A model folder's ``config.json`` in the current format, and the weight-prefix renames its format
    needs (an older format is upgraded by :func:`toonkit._compat.upgrade_model_config`)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TranslateError(f"{path}: not a readable model config ({first_line(exc)})") from None
    if not isinstance(config, dict):
        raise TranslateError(f"{path}: not a JSON object")
    fmt = config.get("format")
    if fmt == _compat.MODEL_FORMAT_1:
        return _compat.upgrade_model_config(config, _roles_of)
    if fmt != MODEL_FORMAT:
        raise TranslateError(f"{path}: not a toonkit model config (format {fmt!r}, expected {MODEL_FORMAT!r})")
    return config, {}


def _roles_of(method: str) -> tuple[str, str | None]:
    try:
        roles = method_class(method).roles
    except KeyError as exc:
        raise TranslateError(f"the model's method: {first_line(exc)}") from None
    return roles.generator, roles.masker


def _read_weights(path: Path, renames: dict[str, str]) -> Weights:
    """``<slot>/<param>`` tensors of a model folder's weights file, by slot, as float32."""
    from safetensors import safe_open

    weights: Weights = {}
    try:
        with safe_open(str(path), framework="pt") as fh:
            for key in fh.keys():
                net, _, param = key.partition("/")
                tensor = fh.get_tensor(key)
                weights.setdefault(renames.get(net, net), {})[param] = \
                    tensor.float() if tensor.is_floating_point() else tensor
    except Exception as exc:  # noqa: BLE001 - a damaged weights file is one clear error
        raise TranslateError(f"{path}: not a readable safetensors file ({first_line(exc)})") from None
    return weights


def load_masker(source: str | Path, fallback_block: dict[str, Any] | None = None) -> nn.Module:
    """A person masker from a toonkit run, checkpoint or model folder, a weights file, or a registered
    masker name.

    Args:
        source: a run directory, checkpoint or model folder holding a masker; a ``.safetensors``/torch
            state dict (built as ``fallback_block``, default :data:`DEFAULT_MASKER`); or the name of a
            registered pretrained masker (one whose class sets ``trainable = False``, such as
            ``mediapipe_selfie`` from the toonkit-mediapipe plugin), built with its defaults.
        fallback_block: the masker block (``{"type": ..., **params}``) for a bare weights file.

    Returns:
        the masker in eval mode, mapping images in [-1, 1] to person logits.
    """
    from toonkit.core.checkpoint import CheckpointError
    from toonkit.protocols import is_trainable

    path = Path(source)
    if not path.exists():
        registry = get_registry()
        if ("masker", str(source)) not in registry:
            raise TranslateError(f"masker {source!r}: no such file, run directory or registered masker")
        # by name only frozen, pretrained maskers (trainable = False): a trainable one would be random
        if is_trainable(registry.get("masker", str(source)).factory):
            raise TranslateError(f"masker {source!r} is trainable, so built by name it would have random "
                                 "weights: pass a run, checkpoint or weights file holding a trained one")
        try:
            return registry.build("masker", str(source)).eval()
        except Exception as exc:  # noqa: BLE001 - a plugin's missing model file or runtime: one line
            raise TranslateError(f"masker {source!r}: {describe_error(exc, limit=None)}") from None
    try:
        stored: StoredModel | None = read_model(path)
    except CheckpointError:  # a bare weights file, or a folder without checkpoints
        stored = None
    if stored is not None:
        slot = stored.spec.method_class().roles.masker
        if slot is None or slot not in stored.spec.nets:
            raise TranslateError(f"masker {source}: {stored.label} has no masker network")
        return load_method(stored.spec, stored.weights, nets=[slot], where=f"masker {source}").net[slot]
    if path.is_dir():
        raise TranslateError(f"masker {source}: no checkpoint or model in this directory")
    from toonkit.weights import load_state_file

    try:
        state = load_state_file(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable weights file is one clear error
        raise TranslateError(f"masker {source}: not a checkpoint or weights file ({exc})") from None
    return build_net("masker", fallback_block or DEFAULT_MASKER, state, f"masker {source}")


def warn_if_untrained(stored: StoredModel, method: Method) -> None:
    """Log when a checkpoint was saved before its masker's training phase (its masks are random)."""
    names = [p.name for p in method.phases]
    if stored.phase not in names:
        return
    masker = method.roles.masker
    later = [p.name for p in method.phases[names.index(stored.phase) + 1:]
             if masker in p.trains and method.phase_active(p.name)]
    if later:
        log.warning("%s was saved in phase '%s', before the masker's phase '%s': its masks are not trained "
                    "yet (use a later checkpoint or --masker)", stored.path, stored.phase, later[0])
