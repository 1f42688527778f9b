"""Checkpoints: network weights as safetensors, training state in a ``weights_only`` companion file.

Layout of ``<run>/checkpoints/``::

    step_000000120.safetensors   # "<net>/<param>" and "ema/<net>/<param>" tensors; metadata holds
                                 # format, step, phase, the resolved recipe (YAML) and the model's
                                 # spec (JSON, toonkit.methods.spec.ModelSpec)
    step_000000120.state.pt      # optimisers, schedulers, grad scalers, RNG states, counters

Both are written to a temporary name and renamed (:func:`toonkit.io_utils.atomic_write`), the state
first, so a checkpoint whose ``.safetensors`` exists is complete. Weights holding NaN or infinity are
never written, so every kept checkpoint is one training can resume from. Nothing is ever unpickled:
safetensors, and ``torch.load`` with ``weights_only=True``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from toonkit.io_utils import atomic_write
from toonkit.errors import ModelError

FORMAT = "toonkit-1"
_NAME = re.compile(r"^step_(\d{9})\.safetensors$")


class CheckpointError(ModelError):
    """A path holds no usable toonkit checkpoint."""


class NonFiniteWeightsError(CheckpointError):
    """Weights or buffers hold NaN or infinity: such a checkpoint is never written, and never used."""


class CheckpointWriteError(CheckpointError):
    """A checkpoint could not be written (disk full, a quota or file-size limit): the older ones stay."""

    usage = False


def nonfinite_tensors(tensors: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors in ``tensors`` that hold NaN or infinity."""
    return [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]


@dataclass
class Checkpoint:
    """What :func:`read_checkpoint` returns."""

    path: Path
    step: int
    phase: str
    recipe_yaml: str
    nets: dict[str, dict[str, torch.Tensor]]
    ema: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

    def weights(self, net: str, prefer_ema: bool = True) -> dict[str, torch.Tensor]:
        """State dict of ``net``; its EMA copy when there is one and ``prefer_ema``."""
        if prefer_ema and net in self.ema:
            return self.ema[net]
        if net not in self.nets:
            raise CheckpointError(f"{self.path}: no network '{net}' (has: {', '.join(self.nets)})")
        return self.nets[net]

    @property
    def recipe(self) -> dict[str, Any]:
        import yaml

        return yaml.safe_load(self.recipe_yaml)

    @property
    def model(self) -> str | None:
        """The model's spec as stored (JSON text; :func:`toonkit.methods.spec.read_spec` reads it), or
        None for a checkpoint written before specs were stored."""
        return self.metadata.get("model")


def _flat(prefix: str, module: nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}/{k}": v.detach().to("cpu").contiguous().clone()
            for k, v in module.state_dict().items()}


def save_checkpoint(ckpt_dir: str | Path, step: int, phase: str, nets: dict[str, nn.Module],
                    state: dict[str, Any], recipe_yaml: str, ema: dict[str, nn.Module] | None = None,
                    keep: int = 3, model: str | None = None) -> Path:
    """Write one checkpoint atomically and keep the newest ``keep``.

    Args:
        ckpt_dir: the run's ``checkpoints/`` folder.
        step, phase: where training is.
        nets: the trained networks by slot.
        state: training state (optimisers, RNG ...), saved beside the weights.
        recipe_yaml: the resolved recipe.
        ema: EMA copies of networks by slot.
        keep: how many checkpoints to keep.
        model: the model's spec as JSON (:meth:`toonkit.methods.spec.ModelSpec.to_json`).
    """
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    stem = f"step_{step:09d}"
    tensors: dict[str, torch.Tensor] = {}
    for name, module in nets.items():
        tensors.update(_flat(name, module))
    for name, module in (ema or {}).items():
        tensors.update(_flat(f"ema/{name}", module))
    bad = nonfinite_tensors(tensors)
    if bad:  # a diverged network is never kept: the checkpoints on disk stay the good ones
        raise NonFiniteWeightsError(f"non-finite (NaN/inf) values in {bad[0]}"
                                    + (f" and {len(bad) - 1} more tensors" if len(bad) > 1 else ""))
    meta = {"format": FORMAT, "step": str(step), "phase": phase, "recipe": recipe_yaml,
            "nets": ",".join(nets), "ema": ",".join(ema or {}), **({"model": model} if model is not None else {})}
    try:
        atomic_write(ckpt_dir / f"{stem}.state.pt", lambda p: torch.save(state, p), by_path=True)
        atomic_write(ckpt_dir / f"{stem}.safetensors", lambda p: save_file(tensors, str(p), metadata=meta),
                     by_path=True)
    except (OSError, RuntimeError) as exc:  # disk full, quota, file-size limit (torch reports it as RuntimeError)
        # a state file without its weights is no checkpoint: remove it so the folder holds complete ones only
        (ckpt_dir / f"{stem}.state.pt").unlink(missing_ok=True)
        # torch's zip writer reports a short write as "unexpected pos …": say what that usually means
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            "the write was cut short (disk full or a file-size limit?)"
        raise CheckpointWriteError(f"cannot write checkpoint {ckpt_dir / stem}.safetensors: {reason}") from None
    for old in list_checkpoints(ckpt_dir)[:-keep]:
        old.unlink(missing_ok=True)
        old.with_name(old.name.replace(".safetensors", ".state.pt")).unlink(missing_ok=True)
    return ckpt_dir / f"{stem}.safetensors"


def list_checkpoints(path: str | Path) -> list[Path]:
    """Complete checkpoints under a run or checkpoints directory, oldest first."""
    path = Path(path)
    ckpt_dir = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    if not ckpt_dir.is_dir():
        return []
    return sorted(p for p in ckpt_dir.iterdir() if _NAME.match(p.name))


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file from a run directory, a checkpoints directory or a file."""
    path = Path(path)
    if path.is_file():
        return path
    found = list_checkpoints(path)
    if not found:
        raise CheckpointError(f"{path}: no checkpoint found (expected checkpoints/step_*.safetensors)")
    return found[-1]


def read_checkpoint(path: str | Path, check_finite: bool = True) -> Checkpoint:
    """Read the network weights (and EMA copies) of a checkpoint, without its training state.

    Args:
        path: a checkpoint file, a run directory or a checkpoints directory (its newest checkpoint).
        check_finite: refuse a checkpoint whose weights or buffers hold NaN or infinity.

    Raises:
        CheckpointError: unreadable, not a toonkit checkpoint, malformed metadata or (with
            ``check_finite``) :class:`NonFiniteWeightsError`.
    """
    file = resolve_checkpoint(path)
    nets: dict[str, dict[str, torch.Tensor]] = {}
    ema: dict[str, dict[str, torch.Tensor]] = {}
    try:
        with safe_open(str(file), framework="pt") as fh:
            meta = fh.metadata() or {}
            for key in fh.keys():
                parts = key.split("/", 2)
                if parts[0] == "ema" and len(parts) == 3:
                    ema.setdefault(parts[1], {})[parts[2]] = fh.get_tensor(key)
                else:
                    nets.setdefault(parts[0], {})[key.split("/", 1)[1]] = fh.get_tensor(key)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise CheckpointError(f"{file}: not a readable safetensors checkpoint ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{file}: not a toonkit checkpoint (metadata format={meta.get('format')!r})")
    try:
        step = int(meta["step"])
    except (KeyError, ValueError):
        raise CheckpointError(f"{file}: malformed checkpoint metadata (step={meta.get('step')!r})") from None
    if check_finite:
        flat = {f"{n}/{k}": v for n, d in nets.items() for k, v in d.items()}
        flat.update({f"ema/{n}/{k}": v for n, d in ema.items() for k, v in d.items()})
        bad = nonfinite_tensors(flat)
        if bad:
            raise NonFiniteWeightsError(f"{file}: non-finite (NaN/inf) values in {bad[0]}: the run diverged "
                                        "before this checkpoint; use an earlier one")
    return Checkpoint(file, step, meta.get("phase", ""), meta.get("recipe", ""), nets, ema, meta)


def read_state(weights_path: str | Path) -> dict[str, Any]:
    """The training state beside a checkpoint, loaded with ``weights_only=True``."""
    p = Path(weights_path)
    state_path = p.with_name(p.name.replace(".safetensors", ".state.pt"))
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{state_path.name}: training state file is missing") from None
    except Exception as exc:  # noqa: BLE001 - damaged or foreign: one line, the caller falls back
        raise CheckpointError(f"{state_path.name}: unreadable training state ({type(exc).__name__})") from None
    missing = [k for k in ("global_step", "phase", "phase_index", "phase_step", "groups", "rng")
               if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"{state_path.name}: training state lacks {', '.join(missing)}")
    return state
