"""``toonkit translate`` for faces and clips: the ``--faces`` options, the face detector, and the per-frame
progress and interruption of video inputs.

The folder engine (:mod:`toonkit.translate.folder`) translates clips and writes portraits; this module only
adds their command-line options, checks them before any work, and draws one progress bar per clip.
"""
from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toonkit.cli.main import CLIError

if TYPE_CHECKING:
    from toonkit.translate.folder import FolderPlan
    from toonkit.translate.options import TranslateOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    from toonkit.translate.faces import DEFAULT_DETECTOR, DEFAULT_FACE_SIZE, DEFAULT_FACES, FACE_MODES

    g = p.add_argument_group("faces and videos")
    g.add_argument("--faces", default=DEFAULT_FACES, choices=FACE_MODES,
                   help=f"auto: also paint each face that is small for the model (group and full-body photos) "
                        f"at the model's scale and blend it in; crop: write one upright portrait per face, "
                        f"NAME_face0.png …; off: the whole image only ({DEFAULT_FACES}; benchmarks/faces.md). "
                        "Needs a face detector: pip install \"toonkit[faces]\"")
    g.add_argument("--face-size", type=int, default=DEFAULT_FACE_SIZE, metavar="N",
                   help=f"side of each portrait with --faces crop ({DEFAULT_FACE_SIZE})")
    g.add_argument("--face-detector", default=DEFAULT_DETECTOR, metavar="NAME",
                   help=f"registered face_detector (toonkit list face_detector; {DEFAULT_DETECTOR})")
    g.add_argument("--no-smoothing", action="store_true",
                   help="videos: no smoothing of masks and face boxes over frames")


def check_args(args: argparse.Namespace) -> None:
    from toonkit.translate.faces import DEFAULT_FACE_SIZE, MIN_FACE_SIZE

    if args.face_size != DEFAULT_FACE_SIZE and args.faces != "crop":
        raise CLIError("--face-size applies to --faces crop")
    if args.face_size < MIN_FACE_SIZE:
        raise CLIError(f"--face-size must be >= {MIN_FACE_SIZE}, got {args.face_size}")


def check_videos(plan: FolderPlan, options: TranslateOptions) -> None:
    """Options no clip can take are a usage error before any work, not one failure per clip."""
    from toonkit.translate.video import VideoError, check_video_options

    if not plan.videos:
        return
    try:
        check_video_options(options)
    except VideoError as exc:
        raise CLIError(f"{plan.videos[0].path}: --{exc}") from None


def prepare(toon: Any, args: argparse.Namespace) -> None:
    """Give the model its face detector; ``--faces crop`` without one is a usage error."""
    from toonkit.registry import UnknownComponentError
    from toonkit.translate.errors import TranslateError
    from toonkit.translate.faces import get_detector

    toon.face_detector = args.face_detector
    if args.faces == "off":
        return
    try:
        get_detector(toon, required=args.faces == "crop")
    except (TranslateError, UnknownComponentError) as exc:
        raise CLIError(str(exc)) from None


def count(plan: FolderPlan) -> str:
    """``3 images and 1 video``: what the plan translates."""
    parts = [f"{n} {what}{'s' * (n != 1)}" for n, what in ((len(plan.todo), "image"), (len(plan.videos), "video"))
             if n]
    return " and ".join(parts)


class FrameBars:
    """One progress bar per clip, in frames, under the files' bar (a context manager closes the last)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.path: Path | None = None
        self.bar: Any = None

    def __call__(self, path: Path, done: int, expected: int) -> None:
        from tqdm import tqdm

        if path != self.path:
            self.close()
            self.path = path
            self.bar = tqdm(unit="frame", desc=path.name, disable=True if self.quiet else None, file=sys.stderr,
                            dynamic_ncols=True, leave=False)
        if expected and self.bar.total != expected:
            self.bar.total = expected
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.path = None, None

    def __enter__(self) -> FrameBars:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def term_as_interrupt() -> Iterator[None]:
    """``kill`` (SIGTERM) unwinds like Ctrl-C, so the temporary file of a clip being written is removed."""
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
