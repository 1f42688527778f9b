"""Temporal flicker of video translation, before and after smoothing masks and face boxes over frames.

A clip is made from one photo: the photo held still with a little sensor noise (±1 grey level, so the
face detector and the masker see slightly different frames, as in real footage) and a small square that
moves along the bottom. ``toonkit.translate.video.translate_video`` translates it with
``--faces auto --background white`` twice, with and without :class:`~toonkit.translate.video.TemporalState`
smoothing, and :func:`~toonkit.translate.video.flicker` measures the change the translation adds where
the input is still (mean absolute change between consecutive frames, output minus input, in [0, 1]).

Usage:
    python benchmarks/video_flicker.py PHOTO... [--model handpainted] [--frames 24] [--out benchmarks/video_flicker.md]
"""
from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

import toonkit
from toonkit.bench.report import cpu_name, git_commit
from toonkit.translate.video import FRAME_BATCH, MASK_SCALE, flicker, read_frames, translate_video, video_frame


def still_clip(photo: Path, path: Path, frames: int, seed: int = 0, max_side: int = 640) -> Path:
    """``frames`` frames of ``photo`` (even sides, at most ``max_side``) with ±1 noise and a moving square."""
    im = Image.open(photo).convert("RGB")
    s = min(1.0, max_side / max(im.size))
    w, h = (round(im.width * s) // 2 * 2, round(im.height * s) // 2 * 2)
    base = np.asarray(im.resize((w, h), Image.LANCZOS)).astype(np.int16)
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=12, options={"crf": "10"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            frame = np.clip(base + rng.integers(-1, 2, base.shape), 0, 255).astype(np.uint8)
            x = 4 + (i * 6) % max(1, w - 20)
            frame[h - 20:h - 4, x:x + 16] = (240, 200, 30)
            out.mux(stream.encode(video_frame(frame)))
        out.mux(stream.encode(None))
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("photos", nargs="+")
    p.add_argument("--model", default="handpainted")
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--colors", choices=["style", "keep"], default="keep",
                   help="the translate colors option (keep: toonkit translate's default)")
    p.add_argument("--out", default=str(Path(__file__).with_name("video_flicker.md")))
    args = p.parse_args()
    toon = toonkit.load(args.model, device="cpu")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for photo in map(Path, args.photos):
            clip = still_clip(photo, Path(tmp) / f"{photo.stem}.mp4", args.frames)
            row = {"photo": photo.name}
            for smoothing in (False, True):
                out = Path(tmp) / f"{photo.stem}_{smoothing}.mp4"
                translate_video(toon, clip, out, background="white", faces="auto", colors=args.colors,
                                smoothing=smoothing)
                row["on" if smoothing else "off"] = flicker(read_frames(clip), read_frames(out))
            rows.append(row)
            print(row, flush=True)
    off, on = np.mean([r["off"] for r in rows]), np.mean([r["on"] for r in rows])
    lines = [
        "# Video flicker, before and after temporal smoothing",
        "",
        f"Model `{args.model}` with its masker (at {MASK_SCALE:g} of the working size; frames in batches of {FRAME_BATCH}), "
        f"`--faces auto --background white`; {len(rows)} clips of "
        f"{args.frames} frames, each one photo held still with ±1 grey-level noise and a moving square "
        "(benchmarks/video_flicker.py). Flicker: mean absolute change between consecutive output frames minus "
        "the same for the input, over the pixels whose input changes by less than 2/255 (0 = no added flicker; "
        f"in [0, 1] units). Device: {cpu_name()}, {torch.get_num_threads()} torch thread(s); torch "
        f"{torch.__version__}, Python {platform.python_version()}; commit `{git_commit(Path(__file__).resolve().parents[1])}`; "
        f"command `python benchmarks/video_flicker.py {' '.join(args.photos)} --frames {args.frames} --colors {args.colors}`.",
        "",
        "| clip from | flicker, no smoothing | flicker, smoothing (masks 0.6, boxes 0.7) |",
        "|---|---|---|",
        *[f"| {r['photo']} | {r['off']:.4f} | {r['on']:.4f} |" for r in rows],
        f"| **mean** | **{off:.4f}** | **{on:.4f}** |",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
