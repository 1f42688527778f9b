"""The trainer: builds a recipe's components and runs its method's phases.

It owns devices, mixed precision, DDP, EMA, checkpoints, samples and logs, so methods only describe
their losses (see :class:`toonkit.methods.base.Method`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from toonkit.errors import Interrupted, first_line
from toonkit.io_utils import atomic_write_text, remove_stale_temps
from toonkit.methods.assemble import assemble
from toonkit.methods.base import Method, Phase
from toonkit.methods.spec import ModelSpec
from toonkit.recipe import Recipe, RecipeError
from toonkit.recipe.schema import OptimSpec
from toonkit.core import checkpoint as ckpt
from toonkit.train.data import TrainData
from toonkit.train.logging import RunLogger
from toonkit.methods.context import Group, NonFiniteLossError, StepContext
from toonkit.train.optim import ema_avg_fn, make_group
from toonkit.core.runtime import (amp_dtype, autocast, cpu_has_bf16_units, init_distributed, pick_device, rng_state,
                                   seed_everything, set_rng_state)
from toonkit.train.samples import save_sample_grid

log = logging.getLogger("toonkit.train")


def _device_words(device: torch.device) -> str:
    """The device as a card names it: the GPU's name, or the CPU's model and thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = torch.get_num_threads()
    return f"{name} (CPU, {threads} thread{'s' if threads != 1 else ''})"


def _has_checkpoints(run_dir: Path) -> bool:
    return bool(ckpt.list_checkpoints(run_dir / "checkpoints")) if (run_dir / "checkpoints").is_dir() else False


class TrainingInterrupted(Interrupted):
    """Ctrl-C during training: a checkpoint was saved and the run can be resumed (exit 130)."""


class Trainer:
    """Runs one recipe into one run directory (see ``toonkit run``)."""

    def __init__(self, recipe: Recipe, out: str | Path, quiet: bool = False) -> None:
        self.recipe, self.spec, self.out, self.quiet = recipe, recipe.spec.train, Path(out), quiet
        self.dist = init_distributed(self.spec.device)
        self.device = pick_device(self.spec.device)
        self.amp = amp_dtype(self.spec.amp, self.device)
        if self.amp is None and self.device.type == "cpu" and self.dist.rank == 0 and cpu_has_bf16_units():
            # fp32 stays the CPU default (bf16 changes numerics); say what the explicit choice buys
            log.info("training in fp32 on a CPU with bf16 units: train.amp=bf16 made a step 1.5-2.7x faster "
                     "on the CPUs of benchmarks/painted.md, where it trained as well as fp32")
        if self.spec.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        seed_everything(self.spec.seed + self.dist.rank)
        if self.device.type == "cuda":
            torch.cuda.manual_seed_all(self.spec.seed + self.dist.rank)
        self.method: Method = assemble(recipe)
        self.model_spec = ModelSpec.from_recipe(recipe).to_json()  # stored in every checkpoint
        method_cls = type(self.method)
        if not method_cls.trainable:
            raise RecipeError([f"{recipe.source}: method '{recipe.method}' has no training phase; "
                               "use `toonkit translate`"])
        self.method.to(self.device)
        if self.spec.channels_last:
            self.method.to(memory_format=torch.channels_last)
        # checkpoints hold what training changes; frozen nets (VGG) come from their own weights
        self.raw_nets: dict[str, nn.Module] = {n: m for n, m in self.method.net.items()
                                               if method_cls.nets[n].trainable}
        self.initialised: list[str] = []
        if recipe.spec.init and not _has_checkpoints(self.out):  # a resumed run has weights of its own
            from toonkit.train.init import apply_init

            self.initialised = apply_init(self.raw_nets, recipe.spec.init, recipe.source)
        self.ema: AveragedModel | None = None
        gen = method_cls.roles.generator
        if self.spec.ema is not None:
            self.ema = AveragedModel(self.raw_nets[gen], multi_avg_fn=ema_avg_fn(self.spec.ema),
                                     use_buffers=True)
        self._wrap_networks()
        smoothing = method_cls.roles.smoothing
        # photo masks are read only by phases that run: a fine-tune that starts from a trained masker
        # (masker steps 0) needs none
        needs_masks = any(p.masks and not self._never_runs(p) for p in self.method.active_phases())
        self.data = TrainData(recipe, self.out, self.dist, needs_masks=needs_masks,
                              smoothing=recipe.spec.augment.get(smoothing) if smoothing else None)
        self.logger: RunLogger | None = None
        self.global_step = 0
        self._interrupted = False

    # -- setup ----------------------------------------------------------------------------------
    def _wrap_networks(self) -> None:
        for name, module in self.raw_nets.items():  # trainable networks only
            wrapped: Any = module
            if self.spec.compile:
                wrapped = torch.compile(wrapped)
            if self.dist.enabled and any(p.requires_grad for p in module.parameters()):
                from torch.nn.parallel import DistributedDataParallel as DDP

                ids = [self.device.index] if self.device.type == "cuda" else None
                wrapped = DDP(wrapped, device_ids=ids, broadcast_buffers=False)
            self.method.net[name] = wrapped

    def _groups(self, phase: Phase, total: int) -> dict[str, Group]:
        return {name: make_group(self.method.net[name], self.spec.optim.get(name) or OptimSpec(), total,
                                 self.device.type, fp16=self.amp == torch.float16)
                for name in phase.trains}

    def _never_runs(self, phase: Phase) -> bool:
        """Whether the recipe gives ``phase`` no steps at all (``steps: 0``, or ``epochs: 0``)."""
        spec = self.spec.phases.get(phase.name)
        return spec is not None and (spec.steps == 0 or (spec.steps is None and spec.epochs == 0))

    def phase_length(self, phase: Phase) -> int:
        spec = self.spec.phases.get(phase.name)
        steps = spec.steps if spec else phase.steps
        epochs = spec.epochs if spec else phase.epochs
        if steps is not None:
            return steps
        return int(round((epochs or 0) * self.data.steps_per_epoch(phase.data)))

    # -- checkpoints ----------------------------------------------------------------------------
    def save(self, phase: str, phase_index: int, phase_step: int, groups: dict[str, Group]) -> Path | None:
        if not self.dist.is_main:
            return None
        state = {"global_step": self.global_step, "phase": phase, "phase_index": phase_index,
                 "phase_step": phase_step, "groups": {k: g.state_dict() for k, g in groups.items()},
                 "rng": rng_state(), "ema_n": self.ema.n_averaged.cpu() if self.ema is not None else None}
        ema = {self.method.roles.generator: self.ema.module} if self.ema is not None else None
        try:
            path = ckpt.save_checkpoint(self.out / "checkpoints", self.global_step, phase, self.raw_nets,
                                        state, self.recipe.to_yaml(), ema=ema, keep=self.spec.keep_checkpoints,
                                        model=self.model_spec)
        except ckpt.NonFiniteWeightsError as exc:  # diverged without a non-finite loss yet: stop here
            last = ckpt.list_checkpoints(self.out / "checkpoints")
            raise NonFiniteLossError(f"{exc} at step {self.global_step} of phase '{phase}'; stopping, "
                                     f"not saved. Last good checkpoint: {last[-1] if last else 'none yet'}"
                                     ) from None
        self._last_save = time.monotonic()
        return path

    def restore(self) -> dict[str, Any] | None:
        """Load the newest intact checkpoint; damaged newer ones are set aside, each named in the log.

        Raises:
            CheckpointError: checkpoints exist but none can be resumed (one line saying why).
        """
        found = ckpt.list_checkpoints(self.out / "checkpoints")
        skipped: list[tuple[Path, str]] = []
        for path in reversed(found):
            try:
                state = self._load(path)
            except (ckpt.CheckpointError, RuntimeError, KeyError, ValueError) as exc:
                skipped.append((path, first_line(exc)))
                continue
            for bad, why in skipped:  # renamed, not deleted: never resumed from again, kept for inspection
                log.warning("checkpoint %s is unusable (%s); set aside as %s.damaged", bad.name, why, bad.name)
                if self.dist.is_main:
                    bad.rename(bad.with_name(bad.name + ".damaged"))
            log.info("resuming from %s (phase %s, step %d)", path.name, state["phase"], state["global_step"])
            return state
        if not skipped:
            return None
        newest, why = skipped[0]
        raise ckpt.CheckpointError(f"no checkpoint in {self.out / 'checkpoints'} can be resumed: newest "
                                   f"{newest.name}: {why}" + (f" (and {len(skipped) - 1} older ones)"
                                                              if len(skipped) > 1 else ""))

    def _load(self, path: Path) -> dict[str, Any]:
        weights = ckpt.read_checkpoint(path)
        state = ckpt.read_state(path)  # before touching the networks: a missing state skips this one
        for name, module in self.raw_nets.items():
            if name not in weights.nets:
                raise ckpt.CheckpointError(f"it has no network '{name}' (the recipe changed?)")
            try:
                module.load_state_dict(weights.nets[name])
            except RuntimeError as exc:
                raise ckpt.CheckpointError(f"network '{name}' does not match the recipe's "
                                           f"({first_line(exc)})") from None
        if self.ema is not None and self.method.roles.generator in weights.ema:
            self.ema.module.load_state_dict(weights.ema[self.method.roles.generator])
        if self.ema is not None and state.get("ema_n") is not None:
            self.ema.n_averaged.copy_(state["ema_n"])
        self.global_step = int(state["global_step"])
        return state

    # -- loop -----------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> Path:
        state = self.restore() if resume else None
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.out / "recipe.yaml", self.recipe.to_yaml())
        self.logger = RunLogger(self.out / "logs", enabled=self.dist.is_main, quiet=self.quiet,
                                every=self.spec.log_every, resume_step=self.global_step if state else None)
        if self.dist.is_main and self.data.skipped:
            log.warning("%d unreadable file(s) skipped: %s", len(self.data.skipped),
                        ", ".join(str(p) for p, _ in self.data.skipped[:5]))
        self._last_save = time.monotonic()
        previous = signal.signal(signal.SIGINT, self._on_sigint) if _main_thread() else None
        try:
            for index, phase in enumerate(self.method.phases):
                if state and index < state["phase_index"]:
                    continue
                if not self.method.phase_active(phase.name):
                    log.info("phase %s skipped by the method", phase.name)
                    continue
                resume_state = state if state and index == state["phase_index"] else None
                self._run_phase(index, phase, resume_state)
                state = None
            if self.dist.is_main:  # every phase trained: `toonkit run` on this run now says it is finished
                from toonkit.train.card import write_card
                from toonkit.train.finished import mark_finished

                self.logger.close()  # the card reads the complete loss log
                counts = {"photos": len(self.data.photos), "cartoons": len(self.data.cartoons),
                          "skipped": len(self.data.skipped)}
                steps = {p.name: self.phase_length(p) for p in self.method.phases if self.method.phase_active(p.name)}
                write_card(self.out, self.recipe, counts, steps, _device_words(self.device))
                mark_finished(self.out, self.global_step, self.recipe.to_yaml())
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            self.logger.close()
        return self.out

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._interrupted:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self._interrupted = True
        log.warning("interrupt: saving a checkpoint after this step (Ctrl-C again to abort)")

    def _run_phase(self, index: int, phase: Phase, state: dict[str, Any] | None) -> None:
        total = self.phase_length(phase)
        start = state["phase_step"] if state else 0
        groups = self._groups(phase, total)
        if state:
            for name, g in groups.items():
                g.load_state_dict(state["groups"][name])
            set_rng_state(state["rng"])
        if start >= total:
            return
        assert self.logger is not None
        self.logger.start_phase(phase.name, start, total)
        batches = self.data.batches(phase.data, start)
        sample_batch = self.data.sample_batch(self.spec.sample_count)
        self.method.train()
        for phase_step in range(start + 1, total + 1):
            batch = self._to_device(next(batches))
            ctx = StepContext(phase.name, self.global_step, groups, self.spec.grad_clip)
            try:
                with autocast(self.device, self.amp):
                    losses = self.method.train_step(batch, ctx)
                bad = [k for k, v in losses.items() if not torch.isfinite(torch.as_tensor(v)).all()]
                if bad:
                    raise NonFiniteLossError(f"non-finite loss '{bad[0]}' at step {self.global_step} "
                                             f"of phase '{phase.name}'")
            except NonFiniteLossError as exc:
                self.logger.end_phase()
                last = ckpt.list_checkpoints(self.out / "checkpoints")
                raise NonFiniteLossError(f"{exc}; stopping. Last good checkpoint: "
                                         f"{last[-1] if last else 'none yet'}") from None
            for name in ctx.stepped:
                groups[name].scheduler.step()
            if self.ema is not None and self.method.roles.generator in ctx.stepped:
                self.ema.update_parameters(self.raw_nets[self.method.roles.generator])
            self.global_step += 1
            if phase_step % self.spec.log_every == 0 or phase_step == total:
                lr = float(next(iter(groups.values())).scheduler.get_last_lr()[0]) if groups else None
                self.logger.step(self.global_step, phase_step, {k: float(v) for k, v in losses.items()}, lr)
            else:
                self.logger.step(self.global_step, phase_step, {}, None)
            if self.dist.is_main and (phase_step % self.spec.sample_every == 0 or phase_step == total):
                self._samples(sample_batch, phase.name)
            if self._due(phase_step, total):
                self.save(phase.name, index, phase_step, groups)
            if self._interrupted:
                self.save(phase.name, index, phase_step, groups)
                self.logger.end_phase()
                raise TrainingInterrupted(f"interrupted at step {self.global_step}, a checkpoint saved; "
                                          f"continue with `toonkit run RECIPE --out {self.out} --resume`")
        self.logger.end_phase()

    def _due(self, phase_step: int, total: int) -> bool:
        if phase_step == total:
            return True
        if self.spec.checkpoint_every and phase_step % self.spec.checkpoint_every == 0:
            return True
        return bool(self.spec.checkpoint_seconds
                    and time.monotonic() - self._last_save >= self.spec.checkpoint_seconds)

    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fmt = torch.channels_last if self.spec.channels_last else torch.contiguous_format
        return {k: v.to(self.device, non_blocking=True, memory_format=fmt) if v.dim() == 4
                else v.to(self.device) for k, v in batch.items()}

    @contextlib.contextmanager
    def _ema_generator(self) -> Iterator[None]:
        slot = self.method.roles.generator
        if self.ema is None:
            yield
            return
        current = self.method.net[slot]
        self.method.net[slot] = self.ema.module
        try:
            yield
        finally:
            self.method.net[slot] = current

    @torch.no_grad()
    def _samples(self, batch: dict[str, torch.Tensor] | None, phase: str) -> None:
        if batch is None:
            return
        self.method.eval()
        with self._ema_generator(), autocast(self.device, self.amp):
            columns = self.method.sample(self._to_device(batch))
        self.method.train()
        grid = save_sample_grid(columns, self.out / "samples" / f"{phase}_{self.global_step:09d}.png")
        assert self.logger is not None
        self.logger.image(f"samples/{phase}", grid, self.global_step)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def train(recipe: Recipe, out: str | Path, resume: bool = False, quiet: bool = False) -> Path:
    """Train ``recipe`` into ``out`` (resuming from its newest intact checkpoint when ``resume``).

    The run directory is locked for the whole run (:class:`~toonkit.train.lock.RunLock`), and what a
    killed run left half-written there (checkpoint temporaries, a half-made demo set) is removed first.

    Raises:
        RunLockedError: another live process is training into ``out``.
    """
    from toonkit.train.lock import RunLock

    out = Path(out)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    with RunLock(out) if main_rank else contextlib.nullcontext():
        if main_rank:
            for folder in (out, out / "checkpoints"):
                remove_stale_temps(folder, everything=True)
        trainer = Trainer(recipe, out, quiet=quiet)
        try:
            return trainer.fit(resume=resume)
        finally:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
