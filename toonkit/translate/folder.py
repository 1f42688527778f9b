"""Translating files and folders into an output folder: the engine of ``toonkit translate``, for any caller.

:func:`plan_folder` finds the inputs and decides what to do with each (translate it, keep an existing
output, or refuse to overwrite the input itself) before any model runs; :func:`translate_planned`
decodes ahead in a thread, translates equal-size images in batches, writes each output atomically, and
reports every file that fails by name while the others go on (a failing batch is retried image by image).
:meth:`Cartoonizer.translate_folder <toonkit.translate.api.Cartoonizer.translate_folder>` does both.

Example:
    >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
    >>> plan = plan_folder(["photos/"], "toons/")  # doctest: +SKIP
    >>> report = translate_planned(toon, plan, TranslateOptions.of(background="white"),
    ...                            progress=lambda path, error: print(path, error or "ok"))  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from toonkit.data.decode import DecodeError, prefetch
from toonkit.errors import describe_error
from toonkit.io_utils import OutputsReport
from toonkit.translate.io import (FORMATS, InputError, InputFile, check_unique_outputs, collect_inputs, output_path,
                                  read_image, replaces_input, save_image)
from toonkit.translate.options import TranslateOptions

if TYPE_CHECKING:
    from toonkit.translate.api import Cartoonizer

__all__ = ["SELF_OVERWRITE", "FolderPlan", "FolderReport", "Progress", "plan_folder", "translate_planned"]

#: called after each image as ``progress(path, error)``; ``error`` is None when its output was written
Progress = Callable[[Path, "str | None"], None]
#: why an input whose output would replace it is skipped
SELF_OVERWRITE = "skipped: its output would replace this input; use another -o"


@dataclass
class FolderPlan:
    """What a folder translation will do, decided before any model runs.

    Attributes:
        out: the output folder.
        format: the output format (``png``, ``jpg``, ``webp``).
        items: every input found, in order.
        todo: the inputs to translate.
        kept: how many outputs exist already and are kept.
        itself: inputs whose output would replace the input file (never written; counted as failed).
    """

    out: Path
    format: str
    items: list[InputFile]
    todo: list[InputFile]
    kept: int
    itself: list[Path]

    def target(self, item: InputFile) -> Path:
        """Where ``item``'s output goes."""
        return output_path(item, self.out, self.format)


class FolderReport(OutputsReport):
    """What :func:`translate_planned` did (``written``, ``kept``, ``failed`` with reasons …)."""

    def summary(self) -> str:
        """One line: ``translated N images into OUT[ (K existing kept …)][; F of T failed: …]``."""
        if self.all_kept:
            return f"all {self.total} outputs already exist in {self.out} (--overwrite to replace them)"
        text = f"translated {self.written} image{'s' * (self.written != 1)} into {self.out}"
        if self.kept:
            text += f" ({self.kept} existing kept; --overwrite to replace them)"
        if self.failed:
            text += f"; {len(self.failed)} of {self.total} failed: {self.failed_names()}"
        return text


def plan_folder(inputs: Sequence[str | Path], out: str | Path, format: str = "png",
                overwrite: bool = False) -> FolderPlan:
    """Find the inputs (files, folders searched recursively, globs) and decide what to do with each.

    Raises:
        InputError: an input names nothing, two inputs would write the same output, or an unknown format.
    """
    if format not in FORMATS:
        raise InputError(f"unknown output format {format!r} (options: {', '.join(FORMATS)})")
    out = Path(out)
    items = collect_inputs([str(s) for s in inputs], exclude=out)
    check_unique_outputs(items, out, format)
    # an output never replaces an input, overwrite or not (-o pointing at the photos' own folder)
    itself = [it.path for it in items if replaces_input(it, output_path(it, out, format))]
    todo = [it for it in items if it.path not in itself and (overwrite or not output_path(it, out, format).exists())]
    return FolderPlan(out, format, items, todo, len(items) - len(todo) - len(itself), itself)


def translate_planned(toon: Cartoonizer, plan: FolderPlan, options: TranslateOptions | None = None, *,
                      quality: int = 95, batch_size: int = 4, progress: Progress | None = None) -> FolderReport:
    """Translate ``plan.todo`` with ``toon`` into ``plan.out``; never raises for one bad file.

    Args:
        toon: the model.
        plan: from :func:`plan_folder`.
        options: the per-image options (default: :class:`TranslateOptions` defaults).
        quality: jpg/webp quality.
        batch_size: images per forward pass (equal sizes are batched; decoding runs ahead in a thread).
        progress: called after each image of ``plan.todo`` (see :data:`Progress`).

    Returns:
        the report: ``plan.itself`` counted as failed (:data:`SELF_OVERWRITE`), each unreadable,
        untranslatable or unwritable file with its reason.
    """
    opts = (options or TranslateOptions()).as_kwargs()
    report = FolderReport(plan.out, len(plan.items), kept=plan.kept,
                          failed=[(path, SELF_OVERWRITE) for path in plan.itself])
    by_path = {it.path: it for it in plan.todo}

    def done(path: Path, error: str | None) -> None:
        if error is None:
            report.written += 1
        else:
            report.failed.append((path, error))
        if progress is not None:
            progress(path, error)

    def flush(batch: list[tuple[Path, torch.Tensor]]) -> None:
        if not batch:
            return
        try:
            outs = toon.translate_tensors([image for _, image in batch], batch_size=batch_size, **opts)
        except Exception as exc:  # noqa: BLE001 - a failing batch is reported per file, the rest go on
            if len(batch) > 1:  # one by one, so one bad image does not take the batch down
                for one in batch:
                    flush([one])
                return
            done(batch[0][0], f"translation failed: {describe_error(exc, limit=None)}")
            return
        for (path, _), image in zip(batch, outs):
            try:
                save_image(image, plan.target(by_path[path]), plan.format, quality)
            except (OSError, ValueError) as exc:
                done(path, f"cannot write output: {exc}")
                continue
            done(path, None)

    batch: list[tuple[Path, torch.Tensor]] = []
    for path, future in prefetch([it.path for it in plan.todo], read_image, ahead=2 * batch_size):
        try:
            decoded = future.result()
        except DecodeError as exc:
            done(path, f"cannot decode: {exc.reason}")
            continue
        except OSError as exc:
            done(path, f"cannot read: {exc}")
            continue
        batch.append((path, decoded))
        if len(batch) >= batch_size:
            flush(batch)
            batch = []
    flush(batch)
    return report
