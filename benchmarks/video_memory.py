"""Memory of a long clip: does ``toonkit translate`` stay flat over a 10-minute video?

Generates a clip (default 10 minutes at 25 frames/s, 320×180, with a 440 Hz AAC audio track), translates
it with :func:`toonkit.translate.video.translate_video` (the code ``toonkit translate MODEL clip.mp4``
runs) and samples this process's resident memory (``/proc/self/statm``) every ``--every`` frames. The
generator is a stand-in (one 3×3 convolution) unless ``--model`` names a real one: what is measured is the
streaming pipeline (decode, resize, translate, colour keeping, encode, audio copy), whose memory must not
grow with the clip's length; a real model adds its own fixed working memory per frame and takes hours for
15 000 frames on a CPU.

    python benchmarks/video_memory.py [--minutes 10] [--every 1000] [--out benchmarks/video_memory.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import toonkit
from toonkit.bench.report import cpu_name, git_commit
from toonkit.translate import Cartoonizer
from toonkit.translate.video import translate_video


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_clip(path: Path, frames: int, rate: int, w: int, h: int, audio: bool = True) -> None:
    """An mp4 of ``frames`` frames of a drifting colour pattern (libx264), with a 440 Hz AAC tone."""
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=rate, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        if audio:
            sound = out.add_stream("aac", rate=48000)
            sound.layout = "mono"
        yy, xx = np.mgrid[0:h, 0:w]
        per_frame = 48000 // rate
        t = np.arange(per_frame) / 48000
        sent = 0
        for i in range(frames):
            rgb = np.stack([(xx + 3 * i) % 256, (yy + i) % 256, (xx + yy + i) // 4 % 256], -1).astype(np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            if not audio:
                continue
            tone = (0.2 * np.sin(2 * np.pi * 440 * (t + i * per_frame / 48000))).astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, sent
            sent += per_frame
            out.mux(sound.encode(frame))
        out.mux(video.encode(None))
        if audio:
            out.mux(sound.encode(None))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=int, default=25)
    p.add_argument("--size", default="320x180", help="frame size WxH")
    p.add_argument("--every", type=int, default=1000, help="sample memory every N frames")
    p.add_argument("--model", default=None, help="a real model (default: a one-convolution stand-in)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(Path(__file__).with_name("video_memory.md")))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.split("x"))
    frames = round(args.minutes * 60 * args.rate)
    if args.model:
        toon = toonkit.load(args.model, device="cpu")
        what = f"`{args.model}`"
    else:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.Tanh())
        toon = Cartoonizer(net, size=128, device="cpu", channels_last=False)
        what = "a one-convolution stand-in generator (working size 128 on the short side)"
    samples: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "clip.mp4", Path(tmp) / "out" / "clip.mp4"
        start = time.perf_counter()
        make_clip(src, frames, args.rate, w, h)
        made = time.perf_counter() - start
        size_mb = src.stat().st_size / 1e6
        samples.append((0, rss_mib()))

        def progress(done: int, expected: int) -> None:
            if done % args.every == 0 or done == 1:
                samples.append((done, rss_mib()))
                print(f"frame {done}/{expected}: {samples[-1][1]:.0f} MiB", file=sys.stderr, flush=True)

        start = time.perf_counter()
        written = translate_video(toon, src, dst, progress=progress, colors="keep")
        seconds = time.perf_counter() - start
        samples.append((written, rss_mib()))
        out_mb = dst.stat().st_size / 1e6
    after_first = [m for f, m in samples if f >= args.every]
    growth = max(after_first) - min(after_first) if after_first else float("nan")
    lines = [
        "# Memory of a long clip", "",
        f"`python benchmarks/video_memory.py --minutes {args.minutes:g} --size {args.size}"
        + (f" --model {args.model}" if args.model else "") + (f" --threads {args.threads}" if args.threads != 2 else "")
        + f"` (commit `{git_commit(Path(__file__).resolve().parents[1])}`); "
        f"{cpu_name()}, {args.threads} torch threads, torch {torch.__version__}, Python {platform.python_version()}.", "",
        f"A generated clip of {frames} frames ({args.minutes:g} min at {args.rate} frames/s, {w}×{h}, AAC audio; "
        f"{size_mb:.1f} MB, made in {made:.0f} s) translated by `translate_video` with {what}, `--colors keep`, "
        f"into {out_mb:.1f} MB in {seconds:.0f} s. Resident memory of the process (MiB), sampled every "
        f"{args.every} frames:", "",
        "| frame | " + " | ".join(str(f) for f, _ in samples) + " |",
        "|---|" + "---|" * len(samples),
        "| RSS (MiB) | " + " | ".join(f"{m:.0f}" for _, m in samples) + " |", "",
        f"From frame {args.every} to the end the resident memory varies by {growth:.1f} MiB: "
        + ("flat (the frames stream through; nothing is kept per frame)." if growth < 20 else
           "it grows: something is kept per frame."), "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
