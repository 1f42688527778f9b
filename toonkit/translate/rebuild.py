"""Rebuilding a saved model's networks from the blocks its recipe or ``config.json`` stored, through
:func:`toonkit.methods.assemble.build_block` (the builder training used), and choosing its masker."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from toonkit.methods.assemble import build_block, method_class
from toonkit.plugins import get_registry
from toonkit.translate.errors import MaskerRequiredError, TranslateError
from toonkit.weights import describe_error

log = logging.getLogger("toonkit.translate")


def saved_method_class(name: str) -> Any:
    try:
        return method_class(name)
    except KeyError as exc:
        raise TranslateError(f"the checkpoint's method: {exc}") from None


def build_net(kind: str, block: dict[str, Any], state: dict[str, torch.Tensor], what: str) -> nn.Module:
    try:
        net = build_block(kind, block)
        net.load_state_dict(state, strict=True)
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TranslateError(f"{what}: cannot rebuild {kind} '{block.get('type')}': {first}") from None
    return net.eval()


def load_masker(source: str | Path, fallback_block: dict[str, Any] | None = None) -> nn.Module:
    """A person masker from a toonkit run/checkpoint, a weights file, or a registered masker name.

    Args:
        source: a run directory or checkpoint holding a ``masker`` network; a ``.safetensors``/torch
            state dict (built as ``fallback_block``, default the registry's ``unet`` masker); or the name
            of a registered pretrained masker (one whose class sets ``trainable = False``, such as
            ``mediapipe_selfie`` from the toonkit-mediapipe plugin), built with its defaults.
        fallback_block: the masker block (``{"type": ..., **params}``) for a bare weights file.

    Returns:
        the masker in eval mode, mapping images in [-1, 1] to person logits.
    """
    from toonkit.core.checkpoint import CheckpointError, read_checkpoint

    path = Path(source)
    if not path.exists():
        registry = get_registry()
        if ("masker", str(source)) not in registry:
            raise TranslateError(f"masker {source!r}: no such file, run directory or registered masker")
        factory = registry.get("masker", str(source)).factory
        # by name only frozen, pretrained maskers (trainable = False): a trainable one would be random
        if getattr(factory, "trainable", True):
            raise TranslateError(f"masker {source!r} is trainable, so built by name it would have random "
                                 "weights: pass a run, checkpoint or weights file holding a trained one")
        try:
            return registry.build("masker", str(source)).eval()
        except Exception as exc:  # noqa: BLE001 - a plugin's missing model file or runtime: one line
            raise TranslateError(f"masker {source!r}: {describe_error(exc, limit=None)}") from None
    try:
        ckpt = read_checkpoint(path)
    except CheckpointError:
        ckpt = None
    if ckpt is not None:
        block = (ckpt.recipe.get("nets") or {}).get("masker")
        if not block:
            raise TranslateError(f"masker {source}: checkpoint {ckpt.path.name} has no masker network")
        return build_net("masker", block, ckpt.weights("masker"), f"masker {source}")
    if path.is_dir():
        raise TranslateError(f"masker {source}: no checkpoint in this directory")
    from toonkit.weights import load_state_file

    try:
        state = load_state_file(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable weights file is one clear error
        raise TranslateError(f"masker {source}: not a checkpoint or weights file ({exc})") from None
    return build_net("masker", fallback_block or {"type": "unet"}, state, f"masker {source}")


def choose_masker(masker: str | Path | bool | None, block: dict[str, Any] | None,
                  state: dict[str, torch.Tensor] | None, where: str) -> nn.Module | None:
    """The masker a loaded model translates with: its own (``masker`` None or True; ``block`` and
    ``state`` from the run or model folder), none (False), or another one (a path or registered name,
    :func:`load_masker`). True without an own masker raises :class:`MaskerRequiredError`."""
    if masker is None or masker is True:
        if block and state is not None:
            return build_net("masker", block, state, where.rsplit(": ", 1)[0])
        if masker is True:
            raise MaskerRequiredError(f"{where} has no masker")
        return None
    if masker is False:
        return None
    return load_masker(masker, block)


def warn_if_untrained(phase: str, method_cls: Any, recipe: dict[str, Any], path: Path) -> None:
    """Log when a checkpoint was saved before its masker's training phase (its masks are random)."""
    names = [p.name for p in method_cls.phases]
    if phase not in names:
        return
    method = build_block("method", recipe["method"])  # the caller checked it names a method
    later = [p.name for p in method_cls.phases[names.index(phase) + 1:]
             if method_cls.roles.masker in p.trains and method.phase_active(p.name)]
    if later:
        log.warning("%s was saved in phase '%s', before the masker's phase '%s': its masks are not trained "
                    "yet (use a later checkpoint or --masker)", path, phase, later[0])
