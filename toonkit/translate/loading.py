""":func:`load`: one entry point for every kind of saved model (registered model, model folder, Hub model,
run directory, checkpoint), and :func:`load_masker` for a masker from elsewhere.

Every reader goes one way: :func:`~toonkit.translate.stored.read_model` (the spec and the weights) →
:func:`~toonkit.methods.spec.load_method` (the method rebuilt by the constructors training used) → a
:class:`~toonkit.translate.api.Cartoonizer` of the method's generator and masker.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from toonkit.errors import describe_error
from toonkit.methods.base import Method
from toonkit.methods.spec import build_net, load_method
from toonkit.plugins import get_registry
from toonkit.translate.api import MAX_PIXELS, Cartoonizer
from toonkit.translate.errors import MaskerRequiredError, TranslateError
from toonkit.translate.stored import StoredModel, read_model

log = logging.getLogger("toonkit.translate")

#: the masker a bare weights file (``--masker FILE.safetensors``) is built as when nothing says otherwise
DEFAULT_MASKER = {"type": "unet"}


def load(source: str | Path, device: str | torch.device = "auto", *, masker: str | Path | bool | None = None,
         ema: bool = True, amp: str = "off", channels_last: bool | None = None, max_pixels: int | None = None,
         work_size: int | None = None) -> Cartoonizer:
    """Load a model for translation: a registered model, a model folder, a Hub model, a run or a checkpoint.

    Args:
        source: a registered model name (``handpainted``; ``toonkit list model`` shows them), a model
            folder (:meth:`Cartoonizer.save_pretrained`), ``hf://owner/name[@revision]`` (needs
            ``huggingface_hub``; ``HF_HUB_OFFLINE=1`` reads only its cache), a run directory, its
            ``checkpoints/`` directory or a ``step_*.safetensors`` file.
        device: ``auto`` (CUDA, else MPS, else CPU), ``cpu``, ``cuda`` …
        masker: None uses the model's own masker when it has one; True requires it; a path (run,
            checkpoint, model folder, weights file) or registered masker name loads that one instead
            (:func:`load_masker`); False loads none.
        ema: for runs and checkpoints, the generator's EMA weights when the checkpoint has them (a model
            folder holds the weights it was saved with).
        amp, channels_last, max_pixels, work_size: see :class:`~toonkit.translate.api.Cartoonizer`
            (None: its defaults).

    Raises:
        TranslateError: ``source`` names nothing loadable (the message lists close model names), or
            ``masker=True`` for a model without one.
        ModelError: a model that cannot be read or rebuilt (one line naming the file).

    Example:
        >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
        >>> toon.translate(Image.open("me.jpg"), background="white")  # doctest: +SKIP
    """
    stored = read_model(source, ema=ema)
    roles = stored.spec.method_class().roles
    own = masker is None or masker is True
    # the generator always (a spec without it is refused), the model's own masker when it is wanted
    own_masker = roles.masker if own and roles.masker in stored.spec.nets else None
    wanted = [roles.generator] + ([own_masker] if own_masker else [])
    method = load_method(stored.spec, stored.weights, nets=wanted, where=str(stored.path))
    mask_net = method.net[own_masker] if own_masker else None
    if masker is True and mask_net is None:
        raise MaskerRequiredError(f"{stored.label} has no masker")
    if mask_net is not None:
        warn_if_untrained(stored, method)
    elif isinstance(masker, (str, Path)):
        mask_net = load_masker(masker, stored.spec.nets.get(roles.masker) if roles.masker else None)
    return Cartoonizer(method.net[roles.generator], mask_net, prepare_input=method.prepare_input,
                       size=stored.spec.size, spec=stored.spec.for_translation(masker=own_masker is not None),
                       source=stored.label, device=device, amp=amp, channels_last=channels_last,
                       work_size=work_size, max_pixels=MAX_PIXELS if max_pixels is None else max_pixels)


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
