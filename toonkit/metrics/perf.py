"""Size and speed of a method: parameters, FLOPs, throughput and peak memory.

These are plain functions rather than registered metrics: they look at a network or a translate
function, not at a test set. All of them say what they measured (device, batch, size, which memory).
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (shared tensors counted once).

    Example:
        >>> count_parameters(nn.Conv2d(3, 8, 3))
        224
    """
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def count_flops(model: nn.Module | Callable[[Tensor], Tensor], input_size: tuple[int, ...] = (1, 3, 256, 256),
                device: torch.device | str = "cpu") -> int:
    """FLOPs of one forward on a zero input of ``input_size``, counted by ``torch.utils.flop_counter``.

    PyTorch's counter counts a multiply-add as 2 FLOPs and covers matmuls and convolutions (including
    transposed ones), not element-wise ops, norms or interpolation; so this is ≈ 2 × MACs of the layers
    that dominate a CNN's cost.

    Example:
        >>> count_flops(nn.Conv2d(3, 8, 3, padding=1), (1, 3, 4, 4))  # 2 * 8*4*4 * 3*3*3
        6912
    """
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(input_size, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops())


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], device: torch.device | str = "cpu", warmup: int = 1,
                   repeats: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` separately timed calls, after ``warmup``
    untimed ones, synchronising CUDA around each. The median shrugs off the odd call slowed by another
    process, where the mean of a short loop does not.

    Example:
        >>> median_seconds(lambda: sum(range(1000)), warmup=0, repeats=3) > 0
        True
    """
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        _synchronize(device)
        start = time.perf_counter()
        fn()
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_throughput(translate: Callable[[Tensor], Tensor], batch_size: int = 1, size: int = 256,
                       device: torch.device | str = "cpu", warmup: int = 3, repeats: int = 10,
                       min_seconds: float = 0.0) -> dict[str, float]:
    """Images per second of ``translate`` on random ``batch_size`` × 3 × ``size``² inputs in [-1, 1].

    ``warmup`` untimed calls first (allocator, cuDNN autotuning, lazy init), then at least ``repeats``
    timed calls (more until ``min_seconds`` have passed), synchronising CUDA around the clock.

    Returns:
        ``{'images_per_s', 'ms_per_batch', 'batch_size', 'size', 'repeats'}``.
    """
    device = torch.device(device)
    x = torch.rand(batch_size, 3, size, size, device=device) * 2 - 1
    with torch.no_grad():
        for _ in range(warmup):
            translate(x)
        _synchronize(device)
        start = time.perf_counter()
        done = 0
        while done < repeats or time.perf_counter() - start < min_seconds:
            translate(x)
            done += 1
        _synchronize(device)
        elapsed = time.perf_counter() - start
    return {"images_per_s": done * batch_size / elapsed, "ms_per_batch": 1000 * elapsed / done,
            "batch_size": batch_size, "size": size, "repeats": done}


def _rss_peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux reports KiB, macOS bytes


def peak_memory(fn: Callable[[], object], device: torch.device | str = "cpu") -> dict[str, Any]:
    """Run ``fn()`` and report the peak memory it reached.

    On CUDA: ``torch.cuda.max_memory_allocated`` after resetting the peak, i.e. the tensors the call
    itself held at most (``kind='cuda_max_allocated'``). On CPU there is no per-call counter: the value
    is the whole process's peak resident set size so far (``kind='cpu_process_rss_peak'``), which
    includes everything loaded before and can only grow; compare it only between fresh processes.

    Returns:
        ``{'peak_bytes': int, 'peak_mb': float, 'kind': str}``.
    """
    device = torch.device(device)
    if device.type == "cuda":
        _synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        _synchronize(device)
        peak, kind = torch.cuda.max_memory_allocated(device), "cuda_max_allocated"
    else:
        fn()
        peak, kind = _rss_peak_bytes(), "cpu_process_rss_peak"
    return {"peak_bytes": int(peak), "peak_mb": peak / 2**20, "kind": kind}


def size_and_speed(model: nn.Module | None, translate: Callable[[Tensor], Tensor],
                   device: torch.device | str = "cpu", size: int = 256, batch_sizes: tuple[int, ...] = (1, 8),
                   warmup: int = 3, repeats: int = 10) -> dict[str, object]:
    """The benchmark's size/speed columns for one method.

    Args:
        model: the network whose parameters and FLOPs are counted (``None`` when the method is not one
            network, e.g. optimisation-based style transfer: those columns are then absent).
        translate: the method as called at inference (the caller sets autocast/channels_last inside it).
        device: where it runs.
        size: square input side.
        batch_sizes: batch sizes timed.

    Returns:
        ``params``, ``gflops`` (per 1×3×size² forward), ``img_per_s_b{B}`` per batch size, ``peak_mem_mb``
        and ``peak_mem_kind`` (the largest batch's peak; see :func:`peak_memory`), ``device``.
    """
    device = torch.device(device)
    out: dict[str, object] = {"device": str(device)}
    if model is not None:
        out["params"] = count_parameters(model)
        out["gflops"] = count_flops(model, (1, 3, size, size), device) / 1e9
    for b in batch_sizes:
        out[f"img_per_s_b{b}"] = measure_throughput(translate, b, size, device, warmup, repeats)["images_per_s"]
    x = torch.rand(max(batch_sizes), 3, size, size, device=device) * 2 - 1

    def run() -> None:
        with torch.no_grad():
            translate(x)

    mem = peak_memory(run, device)
    out["peak_mem_mb"], out["peak_mem_kind"] = mem["peak_mb"], mem["kind"]
    return out
