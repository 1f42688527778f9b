"""A grid comparing person maskers through ``--background white``: photo | teacher | shipped | candidate.

    TOONKIT_WEIGHTS_DIR=../shared/weights python benchmarks/masker_figure.py PHOTOS... -o figure.png \\
        [--candidate DIR] [--model handpainted] [--teacher mediapipe_selfie] [--size 256] [--height 200]

Each row is one photo; each further column is ``toonkit translate MODEL PHOTO --background white --size
SIZE`` with that column's masker in place of the model's own (the Python API's ``Cartoonizer.translate``,
which the CLI calls): the teacher (toonkit-mediapipe plugin), the model's shipped masker, and the
candidate masker in ``DIR`` (``masker.json`` + ``masker.safetensors``, see ``train_masker.py``). A masker
that drops part of the person shows it as white; one that keeps background shows it painted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mask_teacher_iou import load_candidate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("photos", nargs="+", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="handpainted")
    p.add_argument("--teacher", default="mediapipe_selfie")
    p.add_argument("--candidate", type=Path, default=None, metavar="DIR")
    p.add_argument("--size", type=int, default=256, help="translate at this short side (--size)")
    p.add_argument("--height", type=int, default=200, help="row height in the figure")
    args = p.parse_args(argv)

    import toonkit
    from toonkit.data.decode import load_rgb

    toon = toonkit.load(args.model, device="cpu")
    maskers = {"teacher": toonkit.build("masker", args.teacher).eval(), "shipped": toon.masker}
    if args.candidate is not None:
        maskers["new"] = load_candidate(args.candidate)
    header = 18
    rows = []
    for photo_path in args.photos:
        photo = load_rgb(photo_path)
        cells = [photo]
        for masker in maskers.values():
            toon.masker = masker
            cells.append(toon.translate(photo, background="white", size=args.size))
        rows.append([c.resize((max(1, round(c.width * args.height / c.height)), args.height), Image.LANCZOS)
                     for c in cells])
    widths = [max(r[i].width for r in rows) for i in range(len(rows[0]))]
    grid = Image.new("RGB", (sum(widths) + 4 * (len(widths) - 1), header + len(rows) * (args.height + 4)),
                     (128, 128, 128))
    draw = ImageDraw.Draw(grid)
    for i, title in enumerate(["photo", *(f"--background white, {k} masker" for k in maskers)]):
        draw.text((sum(widths[:i]) + 4 * i + 4, 3), title, fill=(255, 255, 255))
    for j, row in enumerate(rows):
        for i, cell in enumerate(row):
            grid.paste(cell, (sum(widths[:i]) + 4 * i, header + j * (args.height + 4)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
