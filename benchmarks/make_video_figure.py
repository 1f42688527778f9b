"""The README's clip: a generated video, translated by ``toonkit translate MODEL clip.mp4 -o OUT``, shown
as a GIF (input | output side by side).

The clip is made from toonkit's own synthetic demo set (``toonkit.data.make_demo``: drawn people on
generated backgrounds, free to redistribute): the camera pans and zooms slowly over one demo photo.

Usage:
    python benchmarks/make_video_figure.py -o docs/video.gif [--model handpainted] [--frames 24]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

from toonkit.cli.main import main as toonkit_main
from toonkit.data import make_demo
from toonkit.translate.video import read_frames, video_frame


def pan_clip(photo: Path, path: Path, frames: int, side: int = 192) -> Path:
    big = Image.open(photo).convert("RGB").resize((side * 3 // 2, side * 3 // 2), Image.LANCZOS)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=12, options={"crf": "12"})
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            t = i / max(1, frames - 1)
            crop = round(side * (1.5 - 0.3 * t))  # zoom in while panning
            x, y = round((big.width - crop) * t), round((big.height - crop) * (1 - t) * 0.5)
            frame = big.crop((x, y, x + crop, y + crop)).resize((side, side), Image.LANCZOS)
            out.mux(stream.encode(video_frame(np.asarray(frame))))
        out.mux(stream.encode(None))
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--model", default="handpainted")
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_demo(Path(tmp) / "demo", n=1, size=256, seed=args.seed, n_test=1)
        photo = sorted(paths["test_photos"].glob("*.png"))[0]
        clip = pan_clip(photo, Path(tmp) / "clip.mp4", args.frames)
        code = toonkit_main(["translate", args.model, str(clip), "-o", str(Path(tmp) / "out"), "-q"])
        if code != 0:
            raise SystemExit(f"toonkit translate failed ({code})")
        pairs = [np.concatenate([a, np.full((a.shape[0], 4, 3), 255, np.uint8), b], axis=1)
                 for a, b in zip(read_frames(clip), read_frames(Path(tmp) / "out" / "clip.mp4"))]
    frames = [Image.fromarray(f).quantize(128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for f in pairs]
    frames[0].save(args.out, save_all=True, append_images=frames[1:], duration=1000 // 12, loop=0, optimize=True)
    print(f"wrote {args.out} ({len(frames)} frames)")


if __name__ == "__main__":
    main()
