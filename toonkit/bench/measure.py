"""Scoring one method: its outputs on the test set, every metric of the suite, size and speed."""
from __future__ import annotations

import contextlib
import logging
import math
import re
import sys
import time
import traceback
import weakref
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import Tensor

from toonkit.bench.methods import MethodPlan, Translator
from toonkit.errors import describe_error, first_line
from toonkit.bench.suite import SpeedSpec
from toonkit.metrics import EvalContext, Metric, WeightsUnavailableError
from toonkit.metrics.base import translate_in_chunks
from toonkit.weights import WEIGHTS_ENV

log = logging.getLogger("toonkit.bench")

#: the row column of a phase's median training seconds per step is this prefix and the phase's name
TRAIN_STEP_PREFIX = "train_s_per_step_"


class TimedTranslate:
    """Wraps a translate function and counts the images and seconds it spent (fp32 outputs)."""

    def __init__(self, fn: Callable[[Tensor], Tensor], device: torch.device) -> None:
        self.fn, self.device = fn, device
        self.images, self.seconds = 0, 0.0

    def __call__(self, x: Tensor) -> Tensor:
        from toonkit.metrics.perf import _synchronize

        start = time.perf_counter()
        with torch.no_grad():
            y = self.fn(x.to(self.device)).float()
        _synchronize(self.device)
        self.seconds += time.perf_counter() - start
        self.images += x.shape[0]
        return y

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else math.nan


# Metrics whose pretrained weights could not be had (no local file, download failed), with the reason:
# the methods scored after the first get the same note without another download attempt, each of which
# can wait DOWNLOAD_CONNECT_TIMEOUT_S, and the log says it once.
_UNAVAILABLE: weakref.WeakKeyDictionary[Metric, str] = weakref.WeakKeyDictionary()


def _unavailable(metric: Metric) -> Optional[str]:
    try:
        return _UNAVAILABLE.get(metric)
    except TypeError:  # a plugin metric that cannot be a weak key (unhashable): simply retried
        return None


def score(metrics: list[Metric], ctx: EvalContext, method: str) -> tuple[dict[str, float], list[str]]:
    """Every metric's columns for one method; a metric that fails gives NaN columns and a note.

    A metric whose weights are unavailable is logged once, as one line that names the settings pointing
    at local weights (``TOONKIT_WEIGHTS_DIR``, a suite's ``weights_dir``), and is not retried for later
    methods.
    """
    row: dict[str, float] = {}
    notes: list[str] = []
    for metric in metrics:
        start = time.perf_counter()
        try:
            known = _unavailable(metric)
            if known is not None:
                raise WeightsUnavailableError(known)
            row.update(metric(ctx))
            log.info("%s: %s in %.1fs", method, metric.name, time.perf_counter() - start)
        except WeightsUnavailableError as exc:
            reason = first_line(exc)
            if _unavailable(metric) is None:
                with contextlib.suppress(TypeError):
                    _UNAVAILABLE[metric] = reason
                log.warning("%s: not computed (for any method of this bench): %s. %s (or a suite's "
                            "weights_dir) names the folder of local weights files", metric.name, reason,
                            WEIGHTS_ENV)
            notes.append(f"{metric.name}: not computed, {reason}")
        except Exception as exc:  # noqa: BLE001 - one failing metric must not lose hours of training
            log.error("%s: metric %s failed:\n%s", method, metric.name, traceback.format_exc())
            notes.append(f"{metric.name}: failed, {describe_error(exc, limit=None)}")
        else:
            continue
        for col in metric_columns(metric):
            row.setdefault(col, math.nan)
    return row, notes


def metric_columns(metric: Metric) -> tuple[str, ...]:
    """``metric.columns()``, or just its name when that fails (a metric that cannot load its network)."""
    try:
        return tuple(metric.columns())
    except Exception:  # noqa: BLE001 - columns of a metric that cannot load its network
        return (getattr(metric, "name", "?"),)


# -- size and speed ---------------------------------------------------------------------------------
def _status_kib(field: str) -> Optional[int]:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def _release_freed_memory() -> None:
    """Return freed heap pages to the OS (glibc ``malloc_trim``; a no-op where there is none)."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_memory_mb(fn: Callable[[], Any], device: torch.device) -> tuple[float, str]:
    """Peak memory one call of ``fn`` adds, in MiB, and what was measured.

    CUDA: :func:`toonkit.metrics.perf.peak_memory` (the call's own allocations). CPU on Linux: freed heap
    memory is first handed back to the OS (glibc ``malloc_trim``; without it, memory that earlier calls
    freed stays resident and a warm call seems to need none), then the process's resident-set high-water
    mark is reset (``/proc/self/clear_refs``), so the value is the call's peak above what was resident
    before it, comparable between methods in one process; NaN (``cpu_rss_not_measurable``) when no growth
    is seen (under 64 KiB). Elsewhere: the process's lifetime peak (``cpu_process_rss_peak``), which is not comparable.
    """
    from toonkit.metrics.perf import peak_memory

    if device.type == "cpu" and sys.platform.startswith("linux"):
        try:
            _release_freed_memory()
            Path("/proc/self/clear_refs").write_text("5")
            before = _status_kib("VmRSS")
            fn()
            peak = _status_kib("VmHWM")
            if before is not None and peak is not None:
                # a few pages move with any Python call; below that nothing was seen, and a 0 would read
                # as "needs no memory"
                if peak - before < 64:
                    return math.nan, "cpu_rss_not_measurable"
                return (peak - before) / 1024, "cpu_rss_above_baseline"
        except OSError:
            pass
    mem = peak_memory(fn, device)
    return float(mem["peak_mb"]), str(mem["kind"])


def _optimisation_gflops(tr: Translator, size: int, device: torch.device) -> float:
    """FLOPs of one image's whole optimisation at ``size``² (counted on one and two steps, extrapolated).

    Convolution FLOPs scale with the pixel count, so they are counted at ``min(size, 64)``² and scaled.
    """
    from toonkit.metrics.perf import count_flops

    method = tr.nst_method
    small = min(size, 64)
    steps = method.steps
    try:
        counted = []
        for n in (1, 2):
            method.steps = n
            counted.append(count_flops(tr.translate, (1, 3, small, small), device))
    finally:
        method.steps = steps
    per_step = counted[1] - counted[0]
    total = counted[0] + (steps - 1) * per_step
    return total * (size / small) ** 2 / 1e9


def size_and_speed(tr: Translator, spec: SpeedSpec, device: torch.device) -> dict[str, float]:
    """Parameters, GFLOPs per image, images/s per batch size and peak memory at ``spec.size``²."""
    from toonkit.metrics.perf import count_flops, measure_throughput

    out: dict[str, float] = {"params_M": tr.params / 1e6}
    if tr.filter:  # a fixed filter: nothing to count in FLOPs (it may not even be torch), just timed
        out["gflops"] = math.nan
        batches, warmup, repeats = spec.batch_sizes, spec.warmup, spec.repeats
    elif tr.optimisation:
        out["gflops"] = _optimisation_gflops(tr, spec.size, device)
        batches, warmup, repeats = spec.optimisation_batch_sizes, 0, 1
    else:
        assert tr.flops_fn is not None
        out["gflops"] = count_flops(tr.flops_fn, (1, 3, spec.size, spec.size), device) / 1e9
        batches, warmup, repeats = spec.batch_sizes, spec.warmup, spec.repeats
    for b in batches:
        start = time.perf_counter()
        out[f"img_per_s_b{b}"] = measure_throughput(tr.translate, b, spec.size, device, warmup,
                                                    repeats)["images_per_s"]
        log.info("  %d² batch %d: %.3g images/s (%.1fs)", spec.size, b, out[f"img_per_s_b{b}"],
                 time.perf_counter() - start)
    if batches:
        x = torch.rand(max(batches), 3, spec.size, spec.size, device=device) * 2 - 1

        def once() -> None:
            with torch.no_grad():
                tr.translate(x)

        out[f"peak_mem_mb_b{max(batches)}"], _ = peak_memory_mb(once, device)
    return out


def losses_csv(run_dir: Optional[Path]) -> Optional[Path]:
    """The run's ``logs/losses.csv``; ``run_dir`` may be a run directory, its checkpoints/ folder or one
    checkpoint file. None when there is none."""
    if run_dir is None:
        return None
    for folder in (run_dir, run_dir.parent, run_dir.parent.parent):
        if (folder / "logs" / "losses.csv").is_file():
            return folder / "logs" / "losses.csv"
    return None


def training_speed(run_dir: Optional[Path]) -> dict[str, float]:
    """Median training seconds/step of each phase, from the run's ``logs/losses.csv``.

    Rows are logged every ``log_every`` steps with a wall-clock ``time``; each gap between two rows of
    the same phase gives (seconds / steps), and the median ignores gaps spanning a restart.
    """
    import csv
    import statistics

    path = losses_csv(run_dir)
    if path is None:
        return {}
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    rates: dict[str, list[float]] = {}
    for a, b in zip(rows, rows[1:]):
        if a["phase"] != b["phase"]:
            continue
        steps = int(b["step"]) - int(a["step"])
        if steps > 0:
            rates.setdefault(a["phase"], []).append((float(b["time"]) - float(a["time"])) / steps)
    return {f"{TRAIN_STEP_PREFIX}{phase}": statistics.median(v) for phase, v in rates.items()}


def training_stats(plan: MethodPlan) -> dict[str, float]:
    """Seconds/step per phase from the run's loss log and ``train_min``, their sum over the phase lengths."""
    if plan.kind == "optimise":
        return {}
    out = training_speed(plan.run_dir)
    per_phase = [out.get(f"{TRAIN_STEP_PREFIX}{p}") for p in plan.phase_steps]
    known = [v for v in per_phase if v is not None]
    if plan.phase_steps and len(known) == len(per_phase):
        out["train_min"] = sum(v * n for v, n in zip(known, plan.phase_steps.values())) / 60
    return out


def evaluate(plan: MethodPlan, tr: Translator, metrics: list[Metric], photos: Tensor, masks: Tensor,
             references: Tensor, device: torch.device, batch_size: int, speed: Optional[SpeedSpec]
             ) -> tuple[dict[str, float], Tensor, list[str], dict[str, list[float]], dict[str, Tensor]]:
    """Translate the test set, score it, and measure size and speed (``eval_min``: the time all took).

    Returns:
        (row of numbers, outputs :math:`(N, 3, S, S)` on CPU, notes, per-photo values of the columns
        that are means over the photos, ``{column: [N values, NaN where undefined]}``, and the per-photo
        embeddings of set-level metrics, ``{name: (N, D) tensor}`` (see ``EvalContext.embeddings``))
    """
    timed = TimedTranslate(tr.translate, device)
    start = time.perf_counter()
    outputs = translate_in_chunks(lambda chunk: timed(chunk).cpu(), photos, batch_size)
    log.info("%s: translated %d test photos in %.1fs", plan.name, photos.shape[0], time.perf_counter() - start)
    ctx = EvalContext(inputs=photos, outputs=outputs, masks=masks, references=references, translate=timed,
                      device=device)
    row, notes = score(metrics, ctx, plan.name)
    row["eval_img_per_s"] = timed.images_per_s
    if speed is not None:
        try:
            row.update(size_and_speed(tr, speed, device))
        except Exception as exc:  # noqa: BLE001 - speed is one part of the report, not all of it
            log.error("%s: size/speed failed:\n%s", plan.name, traceback.format_exc())
            notes.append(f"size/speed: failed, {describe_error(exc, limit=None)}")
    row["eval_min"] = (time.perf_counter() - start) / 60
    per_image = {col: [float(v) for v in values] for col, values in ctx.per_image.items()}
    return row, outputs, notes, per_image, dict(ctx.embeddings)
