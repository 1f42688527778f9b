"""``toonkit translate`` for faces and clips: the ``--faces`` options, portraits, and video inputs.

Kept beside :mod:`toonkit.cli.translate_cmd` so that the image path stays as it is: videos are split off
the inputs and translated one by one here (each failure one line, the others still done), and
``--faces crop`` writes ``name_face0.png``, ``name_face1.png`` … per photo.
"""
from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toonkit.cli.main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    from toonkit.translate.faces import DEFAULT_DETECTOR, DEFAULT_FACES, FACE_MODES

    g = p.add_argument_group("faces and videos")
    g.add_argument("--faces", default=DEFAULT_FACES, choices=FACE_MODES,
                   help=f"auto: also paint each face that is small for the model (group and full-body photos) "
                        f"at the model's scale and blend it in; crop: write one upright portrait per face, "
                        f"NAME_face0.png …; off: the whole image only ({DEFAULT_FACES}; benchmarks/faces.md). "
                        "Needs a face detector: pip install \"toonkit[faces]\"")
    g.add_argument("--face-size", type=int, default=256, metavar="N",
                   help="side of each portrait with --faces crop (256)")
    g.add_argument("--face-detector", default=DEFAULT_DETECTOR, metavar="NAME",
                   help=f"registered face_detector (toonkit list face_detector; {DEFAULT_DETECTOR})")
    g.add_argument("--no-smoothing", action="store_true",
                   help="videos: no smoothing of masks and face boxes over frames")


def check_args(args: argparse.Namespace) -> None:
    if args.face_size != 256 and args.faces != "crop":
        raise CLIError("--face-size applies to --faces crop")
    if args.face_size < 16:
        raise CLIError(f"--face-size must be >= 16, got {args.face_size}")


def prepare(toon: Any, args: argparse.Namespace) -> None:
    """Give the model its face detector; ``--faces crop`` without one is a usage error."""
    from toonkit.registry import UnknownComponentError
    from toonkit.translate.faces import get_detector
    from toonkit.translate.errors import TranslateError

    toon.face_detector = args.face_detector
    if args.faces == "off":
        return
    try:
        get_detector(toon, required=args.faces == "crop")
    except (TranslateError, UnknownComponentError) as exc:
        raise CLIError(str(exc)) from None


def split_videos(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """``(videos, images)`` among the collected inputs."""
    from toonkit.translate.video import is_video

    videos = [it for it in items if is_video(it.path)]
    return videos, [it for it in items if it not in videos]


def video_output(item: Any, out_dir: Path) -> Path:
    """A clip keeps its relative path, stem and container: ``clip.mp4`` → ``OUT/clip.mp4``."""
    return Path(out_dir) / item.rel


def portrait_path(target: Path, index: int) -> Path:
    """``OUT/name.png`` → ``OUT/name_face{index}.png``."""
    return target.with_name(f"{target.stem}_face{index}{target.suffix}")


def save_portraits(toon: Any, image: Any, target: Path, args: argparse.Namespace) -> int:
    """Write one portrait per face of ``image`` beside ``target``; returns how many."""
    from toonkit.translate.faces import find_portraits
    from toonkit.translate.io import save_image

    portraits = find_portraits(toon, image, args.face_size, args.background)
    for i, portrait in enumerate(portraits):
        save_image(portrait, portrait_path(target, i), args.format, args.quality)
    return len(portraits)


@contextmanager
def _term_as_interrupt() -> Iterator[None]:
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


def translate_videos(toon: Any, videos: list[Any], args: argparse.Namespace, out_dir: Path) -> tuple[int, list[Path]]:
    """Translate each clip; returns ``(written, failed inputs)``. A bad clip is one line, the rest go on."""
    from tqdm import tqdm

    from toonkit.translate.video import VideoError, translate_video

    written, failed = 0, []
    with _term_as_interrupt():
        for item in videos:
            target = video_output(item, out_dir)
            if target.exists() and not args.overwrite:
                print(f"toonkit translate: {target} exists (--overwrite to replace it)", file=sys.stderr)
                continue
            bar = tqdm(unit="frame", desc=item.path.name, disable=True if args.quiet else None, file=sys.stderr,
                       dynamic_ncols=True)

            def progress(done: int, total: int, bar: Any = bar) -> None:
                if total and bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)

            try:
                frames = translate_video(toon, item.path, target, args.background, faces=args.faces,
                                         smoothing=not args.no_smoothing, progress=progress)
            except VideoError as exc:
                bar.close()
                print(f"toonkit translate: {exc}", file=sys.stderr)
                failed.append(item.path)
                continue
            bar.close()
            written += 1
            print(f"{item.path}: {frames} frames → {target}", file=sys.stderr)
    return written, failed
