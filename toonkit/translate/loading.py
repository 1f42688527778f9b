""":func:`load`: one entry point for every kind of model source (registered model, model folder, Hub
model, run directory, checkpoint)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from toonkit.plugins import get_registry
from toonkit.translate.api import Cartoonizer
from toonkit.translate.errors import TranslateError
from toonkit.translate.pretrained import (WEIGHTS_FILE, read_config, resolve_model)
from toonkit.translate.rebuild import build_net, choose_masker, load_masker, saved_method_class  # noqa: F401


def load(source: str | Path, device: str | torch.device = "auto", **kwargs: Any) -> Cartoonizer:
    """Load a model for translation: a registered model, a model folder, a Hub model, a run or a checkpoint.

    Args:
        source: a registered model name (``handpainted``; ``toonkit list model`` shows them), a model
            folder (:meth:`Cartoonizer.save_pretrained`), ``hf://owner/name[@revision]`` (needs
            ``huggingface_hub``; ``HF_HUB_OFFLINE=1`` reads only its cache), a run directory, its
            ``checkpoints/`` directory or a ``step_*.safetensors`` file.
        device: ``auto`` (CUDA, else MPS, else CPU), ``cpu``, ``cuda`` …
        **kwargs: ``masker`` (path, registered name, or False), ``amp`` (``off``/``bf16``/``fp16``),
            ``channels_last``, ``max_pixels``, ``work_size``, and for runs ``ema`` (bool) — see
            :meth:`Cartoonizer.from_checkpoint`.

    Raises:
        TranslateError: ``source`` names nothing loadable (the message lists close model names).

    Example:
        >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
        >>> toon.translate(Image.open("me.jpg"), background="white")  # doctest: +SKIP
    """
    folder = resolve_model(source)
    if folder is not None:
        return from_pretrained(folder, device=device, **kwargs)
    path = Path(source).expanduser()
    if not path.exists():
        from toonkit.registry import did_you_mean

        models = [e.name for e in get_registry().list("model")]
        raise TranslateError(f"{source}: no such run, checkpoint or model folder, and no registered model of "
                             f"that name{did_you_mean(str(source), models)} (models: {', '.join(models) or 'none'})")
    return Cartoonizer.from_checkpoint(path, device=device, **kwargs)


def from_pretrained(folder: str | Path, device: str | torch.device = "auto", masker: Any = None,
                    amp: str = "off", channels_last: bool | None = None, max_pixels: int | None = None,
                    work_size: int | None = None, **_: Any) -> Cartoonizer:
    """Load a model folder for translation (weights are cast to float32, or run in ``amp``).

    Args:
        folder: a folder written by :func:`toonkit.translate.pretrained.save_pretrained`.
        device, amp, channels_last, max_pixels, work_size: see :class:`~toonkit.translate.api.Cartoonizer`
            (None: its defaults).
        masker: None uses the folder's masker when it has one; a path or registered name loads that one
            instead; False loads none.
    """
    from safetensors import safe_open

    folder = Path(folder)
    config = read_config(folder)
    weights: dict[str, dict[str, torch.Tensor]] = {}
    try:
        with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as fh:
            for key in fh.keys():
                net, _, param = key.partition("/")
                weights.setdefault(net, {})[param] = fh.get_tensor(key).float()
    except Exception as exc:  # noqa: BLE001 - a damaged weights file is one clear error
        raise TranslateError(f"{folder / WEIGHTS_FILE}: not a readable safetensors file ({exc})") from None
    bad = [net for net, state in weights.items() if not all(torch.isfinite(t).all() for t in state.values())]
    if bad:
        raise TranslateError(f"{folder}: non-finite weights in {', '.join(bad)}: the model is damaged")
    method_cls = saved_method_class(config.get("method", "cartoongan"))
    nets = config["nets"]
    if "generator" not in weights:
        raise TranslateError(f"{folder / WEIGHTS_FILE}: holds no generator weights")
    generator = build_net(method_cls.nets[method_cls.roles.generator].kind, nets["generator"],
                           weights["generator"], str(folder))
    mask_net = choose_masker(masker, nets.get("masker"), weights.get("masker"), f"{folder}: the model")
    toon = Cartoonizer(generator, mask_net, prepare_input=method_cls.prepare_input,
                       size=int(config.get("size", 256)), device=device, amp=amp, channels_last=channels_last,
                       work_size=work_size, **({"max_pixels": max_pixels} if max_pixels is not None else {}))
    toon.config = {k: config[k] for k in ("method", "nets", "size") if k in config}
    toon.source = f"{config.get('name') or folder.name} ({folder})"
    return toon
