"""Run logs: TensorBoard events, a CSV of losses, and a progress bar (or periodic lines with ``-q``)."""
from __future__ import annotations

import csv
import io
import logging
import time
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from toonkit.io_utils import atomic_write_text

log = logging.getLogger("toonkit.train")


class RunLogger:
    """Writes losses of rank 0 to ``logs/`` and shows progress for one phase at a time."""

    def __init__(self, log_dir: Path, enabled: bool = True, quiet: bool = False, every: int = 10,
                 resume_step: int | None = None) -> None:
        self.enabled, self.quiet, self.every = enabled, quiet, every
        self.resume_step = resume_step  # rows a killed run logged after its last checkpoint are dropped
        self.bar: tqdm | None = None
        self._csv_file: IO[str] | None = None
        self._csv: csv.DictWriter | None = None
        self._fields: list[str] = []
        self._writer = None
        self.log_dir = log_dir
        if enabled:
            log_dir.mkdir(parents=True, exist_ok=True)
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(log_dir))

    def start_phase(self, phase: str, start: int, total: int) -> None:
        self.phase, self.total, self._t0, self._s0 = phase, total, time.perf_counter(), start
        self._shown: dict[str, float] = {}
        if self.enabled and not self.quiet:
            self.bar = tqdm(total=total, initial=start, desc=phase, dynamic_ncols=True, unit="step")
        elif self.enabled:
            log.info("phase %s: steps %d..%d", phase, start, total)

    def step(self, global_step: int, phase_step: int, losses: dict[str, float], lr: float | None) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            # the bar shows the latest value of every loss seen this phase: a step that returns only some
            # losses (or none) must not blank the others
            self._shown.update(losses)
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in list(self._shown.items())[:4]}, refresh=False)
            self.bar.update(1)
        elif phase_step % self.every == 0 or phase_step == self.total:
            rate = (phase_step - self._s0) / max(1e-9, time.perf_counter() - self._t0)
            eta = (self.total - phase_step) / max(rate, 1e-9)
            shown = " ".join(f"{k}={v:.4g}" for k, v in losses.items())
            log.info("%s %d/%d %.2f it/s eta %.0fs %s", self.phase, phase_step, self.total, rate, eta, shown)
        if phase_step % self.every == 0 or phase_step == self.total:
            self._write(global_step, phase_step, losses, lr)

    def _write(self, global_step: int, phase_step: int, losses: dict[str, float], lr: float | None) -> None:
        row: dict[str, Any] = {"step": global_step, "phase": self.phase, "phase_step": phase_step,
                               "time": round(time.time(), 3), "lr": lr, **losses}
        assert self._writer is not None
        for k, v in losses.items():
            self._writer.add_scalar(f"{self.phase}/{k}", v, global_step)
        if lr is not None:
            self._writer.add_scalar(f"{self.phase}/lr", lr, global_step)
        path = self.log_dir / "losses.csv"
        new_fields = [k for k in row if k not in self._fields]
        if new_fields or self._csv is None:
            # a new phase brings new loss names: rewrite the header once, keeping earlier rows
            rows, header = [], []
            if path.exists():
                with open(path, newline="") as fh:
                    reader = csv.DictReader(fh)
                    rows, header = list(reader), list(reader.fieldnames or [])
                # a row torn by a kill mid-append is dropped, not parsed
                rows = [r for r in rows if str(r.get("step") or "").isdigit() and None not in r.values()]
                if self.resume_step is not None:
                    rows = [r for r in rows if int(r["step"]) <= self.resume_step]
                    self.resume_step = None
            self._fields = list(dict.fromkeys([*self._fields, *header, *row]))
            if self._csv_file:
                self._csv_file.close()
            # the rewrite replaces the file at once: a kill mid-way keeps the old rows, never half of them
            text = io.StringIO(newline="")
            rewrite = csv.DictWriter(text, fieldnames=self._fields)
            rewrite.writeheader()
            rewrite.writerows(rows)
            atomic_write_text(path, text.getvalue())
            self._csv_file = open(path, "a", newline="")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=self._fields)
        assert self._csv_file is not None
        self._csv.writerow(row)
        self._csv_file.flush()

    def image(self, tag: str, grid: Any, global_step: int) -> None:
        if self._writer is not None:
            self._writer.add_image(tag, grid, global_step)

    def end_phase(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        """Flush and close the logs (a second call does nothing)."""
        self.end_phase()
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None
        if self._csv_file:
            self._csv_file.close()
            self._csv_file = None
            self._csv = None
