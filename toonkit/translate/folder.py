"""Translating files and folders into an output folder: the engine of ``toonkit translate``, for any caller.

:func:`plan_folder` finds the inputs and decides what to do with each (translate it, keep an existing
output, or refuse to overwrite an input of the call) before any model runs; :func:`translate_planned`
decodes ahead in a thread within the model's image budget, translates equal-size images in batches,
writes each output atomically inside the output folder (never through a link), and reports every file
that fails by name while the others go on (a failing batch is retried image by image).
Clips among the inputs (:func:`~toonkit.translate.video.is_video`) are translated frame by frame into
the same container with the same options (:func:`~toonkit.translate.video.translate_video`), and with
``faces="crop"`` each photo gives one portrait per face (``NAME_face0.png`` …) instead of its cartoon.
:meth:`Cartoonizer.translate_folder <toonkit.translate.api.Cartoonizer.translate_folder>` does both.

Example:
    >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
    >>> plan = plan_folder(["photos/"], "toons/")  # doctest: +SKIP
    >>> report = translate_planned(toon, plan, TranslateOptions.of(background="white"),
    ...                            progress=lambda path, error: print(path, error or "ok"))  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from toonkit.data.decode import DecodeError, prefetch
from toonkit.errors import describe_error
from toonkit.io_utils import OutputsReport, check_output_path, real_path, remove_stale_temps, replaced_input
from toonkit.translate.faces import portrait_path
from toonkit.translate.io import (FORMATS, InputError, InputFile, check_unique_outputs, collect_inputs,
                                  inputs_replaced, output_path, read_image, save_image)
from toonkit.translate.options import TranslateOptions

if TYPE_CHECKING:
    from toonkit.translate.api import Cartoonizer

__all__ = ["NO_FACE", "SELF_OVERWRITE", "FolderPlan", "FolderReport", "FrameProgress", "Progress", "plan_folder",
           "translate_planned"]

#: called after each input as ``progress(path, note)``; ``note`` is None when its output was written, else
#: why nothing was written: a failure (in ``report.failed``) or :data:`NO_FACE` (in ``report.faceless``)
Progress = Callable[[Path, "str | None"], None]
#: called after each frame of a clip as ``frames(path, done, expected)`` (expected 0: unknown)
FrameProgress = Callable[[Path, int, int], None]
#: why an input whose output would replace it is skipped
SELF_OVERWRITE = "skipped: its output would replace this input; use another -o"
#: the note of a photo in which ``faces="crop"`` found no face
NO_FACE = "no face found, nothing written"


@dataclass
class FolderPlan:
    """What a folder translation will do, decided before any model runs.

    Attributes:
        out: the output folder.
        format: the output format (``png``, ``jpg``, ``webp``).
        items: every input found, in order.
        todo: the images to translate.
        kept: how many outputs exist already and are kept.
        itself: inputs whose output would replace an input of the call, their own or another one
            (never written, ``overwrite`` or not; counted as failed).
        replaced: for each of ``itself``, the input its output would replace.
        unlisted: ``(folder, why)`` for each subfolder of an input folder that could not be listed
            (skipped, counted as failed, never silently).
        videos: the clips to translate (each into ``out / rel``, same container).
        portraits: ``faces="crop"``: each image gives portraits (``NAME_face0.png`` …), not its cartoon.
    """

    out: Path
    format: str
    items: list[InputFile]
    todo: list[InputFile]
    kept: int
    itself: list[Path]
    replaced: dict[Path, Path] = field(default_factory=dict)
    unlisted: list[tuple[Path, str]] = field(default_factory=list)
    videos: list[InputFile] = field(default_factory=list)
    portraits: bool = False

    def target(self, item: InputFile) -> Path:
        """Where ``item``'s output goes (for portraits, the name the ``_face0`` … files derive from)."""
        return output_path(item, self.out, self.format)

    def clip_target(self, item: InputFile) -> Path:
        """Where a clip's output goes: ``out / rel``, keeping its container."""
        return self.out / item.rel

    def why_skipped(self, path: Path) -> str:
        """Why the input ``path`` of :attr:`itself` is not translated (:data:`SELF_OVERWRITE` when its
        output is the input itself)."""
        victim = self.replaced.get(path, path)
        if victim == path:
            return SELF_OVERWRITE
        return f"skipped: its output would replace the input {victim}; use another -o"

    @property
    def refused(self) -> list[tuple[Path, str]]:
        """Every input or folder refused before translation, with why (:attr:`itself`, :attr:`unlisted`)."""
        return [(path, self.why_skipped(path)) for path in self.itself] + list(self.unlisted)


@dataclass
class FolderReport(OutputsReport):
    """What :func:`translate_planned` did (``written``, ``kept``, ``failed`` with reasons …).

    Attributes:
        videos: how many of ``written`` are clips.
        faceless: photos in which ``faces="crop"`` found no face (nothing written for them).
    """

    videos: int = 0
    faceless: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """One line: ``translated N images[ and V videos] into OUT[ (K existing kept …)][; no face found in
        …][; F of T failed: …]``."""
        if self.all_kept:
            return f"all {self.total} outputs already exist in {self.out} (--overwrite to replace them)"
        images = self.written - self.videos
        done = [f"{images} image{'s' * (images != 1)}"] if images or not self.videos else []
        done += [f"{self.videos} video{'s' * (self.videos != 1)}"] if self.videos else []
        text = f"translated {' and '.join(done)} into {self.out}"
        if self.kept:
            text += f" ({self.kept} existing kept; --overwrite to replace them)"
        if self.faceless:
            names = [str(p) for p in self.faceless]
            text += (f"; no face found in {len(names)}: {', '.join(names[:5])}"
                     + (f" … and {len(names) - 5} more" if len(names) > 5 else ""))
        if self.failed:
            text += f"; {len(self.failed)} of {self.total} failed: {self.failed_names()}"
        return text


def plan_folder(inputs: Sequence[str | Path], out: str | Path, format: str = "png",
                overwrite: bool = False, portraits: bool = False) -> FolderPlan:
    """Find the inputs (files, folders searched recursively, globs) and decide what to do with each.

    Args:
        inputs: files, folders or glob patterns.
        out: the output folder.
        format: the images' output format (clips keep their container).
        overwrite: translate inputs whose output exists.
        portraits: ``faces="crop"``: an image is done when its first portrait exists; clips are refused.

    Raises:
        InputError: an input names nothing or cannot be looked into, two inputs would write the same
            output, an unknown format, or clips with ``portraits``.
        UnsafeWriteError: ``out`` is empty, or a file (or lies under one), or cannot be looked up.
    """
    from toonkit.translate.video import is_video

    if format not in FORMATS:
        raise InputError(f"unknown output format {format!r} (options: {', '.join(FORMATS)})")
    out = check_output_path(str(out))  # `~` expanded: a quoted '~/x' is the home folder, not './~'
    unlisted: list[tuple[Path, str]] = []
    items = collect_inputs([str(s) for s in inputs], exclude=out, problems=unlisted)
    clips = [it for it in items if is_video(it.path)]
    images = [it for it in items if it not in clips]
    if portraits and clips:
        raise InputError(f"{clips[0].path}: faces crop writes portraits of photos, not of videos; "
                         "translate videos with faces auto or off")
    check_unique_outputs(images, out, format)

    def target(it: InputFile) -> Path:
        return out / it.rel if it in clips else output_path(it, out, format)

    def done(it: InputFile) -> bool:
        return (portrait_path(target(it), 0) if portraits else target(it)).exists()

    # an output never replaces an input of the call, overwrite or not (-o pointing at the photos' own
    # folder, or one input's output landing on another input); portraits are checked as they are written
    replaced = inputs_replaced(items, target)
    itself = list(replaced)
    todo = [it for it in images if it.path not in replaced and (overwrite or not done(it))]
    videos = [it for it in clips if it.path not in replaced and (overwrite or not done(it))]
    return FolderPlan(out, format, items, todo, len(items) - len(todo) - len(videos) - len(itself), itself,
                      replaced, unlisted, videos, portraits)


def translate_planned(toon: Cartoonizer, plan: FolderPlan, options: TranslateOptions | None = None, *,
                      quality: int = 95, batch_size: int = 4, progress: Progress | None = None,
                      frames: FrameProgress | None = None, smoothing: bool = True) -> FolderReport:
    """Translate ``plan.todo`` and ``plan.videos`` with ``toon`` into ``plan.out``; never raises for one bad file.

    Args:
        toon: the model.
        plan: from :func:`plan_folder`.
        options: the per-image options (default: :class:`TranslateOptions` defaults); clips get the same.
        quality: jpg/webp quality.
        batch_size: images per forward pass (equal sizes are batched; decoding runs ahead in a thread).
        progress: called after each image of ``plan.todo`` and each clip of ``plan.videos`` (see
            :data:`Progress`).
        frames: called after each frame of a clip (see :data:`FrameProgress`).
        smoothing: smooth clips' face boxes and masks over frames
            (:class:`~toonkit.translate.video.TemporalState`).

    Returns:
        the report: ``plan.itself`` and ``plan.unlisted`` counted as failed (:meth:`FolderPlan.why_skipped`),
        each unreadable, untranslatable or unwritable file with its reason.
    """
    chosen = options or TranslateOptions()
    if (chosen.faces == "crop") != plan.portraits:
        raise ValueError("faces='crop' (portraits) needs a plan made with plan_folder(..., portraits=True), "
                         "and only it")
    if plan.portraits and plan.todo:
        from toonkit.translate.faces import get_detector

        get_detector(toon, required=True)  # no detector: one error before any file, not one per file
    opts = chosen.as_kwargs()
    report = FolderReport(plan.out, len(plan.items) + len(plan.unlisted), kept=plan.kept, failed=plan.refused)
    by_path = {it.path: it for it in plan.todo}
    inputs = {real_path(it.path): it.path for it in plan.items}

    def done(path: Path, error: str | None) -> None:
        if error is None:
            report.written += 1
        else:
            report.failed.append((path, error))
        if progress is not None:
            progress(path, error)

    def portraits(path: Path, image: torch.Tensor) -> None:
        from toonkit.translate.faces import find_portraits

        try:
            found = find_portraits(toon, image, chosen)
        except Exception as exc:  # noqa: BLE001 - reported per file, the rest go on
            done(path, f"translation failed: {describe_error(exc, limit=None)}")
            return
        if not found:
            report.faceless.append(path)
            if progress is not None:
                progress(path, NO_FACE)
            return
        try:
            for i, portrait in enumerate(found):
                target = portrait_path(plan.target(by_path[path]), i)
                victim = replaced_input(target, inputs)
                if victim is not None:  # NAME_face1.png may be another input of the call: never replaced
                    done(path, f"skipped: its portrait {target.name} would replace the input {victim}; use another -o")
                    return
                save_image(portrait, target, plan.format, quality, root=plan.out)
        except (OSError, ValueError) as exc:
            done(path, f"cannot write output: {exc}")
            return
        done(path, None)

    def flush(batch: list[tuple[Path, torch.Tensor]]) -> None:
        if not batch:
            return
        if plan.portraits:  # one portrait per face instead of the whole image
            for path, image in batch:
                portraits(path, image)
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
            try:  # inside plan.out, never through a link on the way
                save_image(image, plan.target(by_path[path]), plan.format, quality, root=plan.out)
            except (OSError, ValueError) as exc:
                done(path, f"cannot write output: {exc}")
                continue
            done(path, None)

    if plan.todo:  # what a killed translate left (.NAME.tmp-PID-…), in every folder this one writes into
        remove_stale_temps({plan.target(it).parent for it in plan.todo}, root=plan.out)
    # decoded within the model's image budget: memory follows max_pixels, not the file
    read = partial(read_image, max_pixels=toon.max_pixels)
    batch: list[tuple[Path, torch.Tensor]] = []
    for path, future in prefetch([it.path for it in plan.todo], read, ahead=2 * batch_size):
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
    for item in plan.videos:
        error = _translate_clip(toon, item.path, plan.clip_target(item), chosen, frames, smoothing, plan.out)
        report.videos += error is None
        done(item.path, error)
    return report


def _translate_clip(toon: Cartoonizer, path: Path, target: Path, options: TranslateOptions,
                    frames: FrameProgress | None, smoothing: bool, root: Path) -> str | None:
    """Translate one clip into ``target``; None when written, else why not (one line)."""
    from toonkit.translate.video import VideoError, translate_video

    def each(done: int, expected: int) -> None:
        if frames is not None:
            frames(path, done, expected)

    try:
        translate_video(toon, path, target, **options.as_kwargs(), smoothing=smoothing, progress=each, root=root)
    except VideoError as exc:  # its message names the file: the reason alone here
        return str(exc).removeprefix(f"{path}: ")
    except Exception as exc:  # noqa: BLE001 - a failing clip is reported, the others go on
        return f"translation failed: {describe_error(exc, limit=None)}"
    return None
