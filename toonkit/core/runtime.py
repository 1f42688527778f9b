"""Devices, mixed precision and process groups: everything about *where* training runs."""
from __future__ import annotations

import contextlib
import logging
import os
import random
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist

from toonkit.errors import ToonkitError

log = logging.getLogger("toonkit.train")


class DeviceError(ToonkitError, RuntimeError):
    """A device or precision that this machine cannot use; the message names the setting."""


def pick_device(name: str = "auto", setting: str = "train.device") -> torch.device:
    """``auto`` → this rank's CUDA device, else MPS, else CPU; anything else as given, checked.

    Raises:
        DeviceError: the device is malformed or not available here (``setting`` names the option).
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise DeviceError(f"{setting}={name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"{setting}={name!r} but CUDA is not available here (use 'auto' or 'cpu')")
    return device


def amp_dtype(mode: str | None, device: torch.device, setting: str = "train.amp") -> torch.dtype | None:
    """The autocast dtype for a precision setting (``train.amp``, ``--amp``): None means fp32.

    ``off``/``fp32``/None: fp32. ``auto`` picks bf16 on CUDA devices that support it, fp16 on older
    CUDA, and fp32 elsewhere (CPU bf16 is faster but is an explicit choice: it changes numerics).

    Raises:
        DeviceError: fp16 on the CPU, or an unknown mode.
    """
    if mode in ("off", "fp32", None):
        return None
    if mode == "bf16":
        return torch.bfloat16
    if mode == "fp16":
        if device.type == "cpu":
            raise DeviceError(f"{setting}=fp16 is not supported on CPU; use bf16 or off")
        return torch.float16
    if mode != "auto":
        raise DeviceError(f"{setting}={mode!r}: unknown precision (options: auto, off, bf16, fp16)")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


def cpu_has_bf16_units() -> bool:
    """Whether this CPU computes bf16 products natively (AVX-512 BF16 or AMX), where bf16 autocast pays.

    Without them torch emulates bf16 and autocast makes a CPU step slower, not faster.
    """
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes
        return False


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager[Any]:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_name: str) -> DistInfo:
    """Join the torchrun process group when launched under torchrun (NCCL on GPU, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        use_cuda = torch.cuda.is_available() and device_name in {"auto"} | {n for n in [device_name]
                                                                           if n.startswith("cuda")}
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch's CPU generator (CUDA generators are seeded by the trainer)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.random.default_generator.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """RNG states as tensors and plain values, so they save with ``weights_only`` loading."""
    py = random.getstate()
    np_state: Any = np.random.get_state()  # the legacy tuple (its annotation also allows a dict)
    state: dict[str, Any] = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n[0], n[1].numpy().astype(np.uint32), n[2], n[3], n[4]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with the CPU RNGs (Python, NumPy, torch) seeded, restoring them afterwards.

    CUDA is left alone on purpose: this runs inside forked DataLoader workers, where touching CUDA fails.
    """
    py, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    seed_everything(seed)
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
