"""The README's before/after picture, made by ``toonkit translate`` itself.

    python benchmarks/make_readme_figure.py RUN_DIR [PHOTO ...] [-o docs/before_after.png]
        [--backgrounds keep white transparent] [--size 256] [--rows 3] [--device auto]

For every background mode it runs the real command (``toonkit translate RUN PHOTO... -o TMP
--background MODE``), then lays the results out as a grid: one row per photo, the photo first, then one
column per mode (``transparent`` shown over a checkerboard so its alpha is visible). Without photos it
uses the run's own held-out demo photos (``RUN/data/test_photos``, made by the quick-start recipe).
The command line used is printed, so the README can quote it.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]


def checkerboard(size: tuple[int, int], cell: int = 8) -> Image.Image:
    """A light gray checkerboard, the usual backdrop that shows transparency."""
    board = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(board)
    for y in range(0, size[1], cell):
        for x in range(0, size[0], cell):
            if (x // cell + y // cell) % 2:
                draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=(204, 204, 204))
    return board


def tile(path: Path, height: int) -> Image.Image:
    img = Image.open(path)
    img = img.resize((max(1, round(img.width * height / img.height)), height), Image.LANCZOS)
    if img.mode == "RGBA":
        board = checkerboard(img.size)
        board.paste(img, mask=img.getchannel("A"))
        return board
    return img.convert("RGB")


def grid(rows: list[list[Image.Image]], labels: list[str], pad: int = 6, label_h: int = 18) -> Image.Image:
    """Rows of equal-height tiles under a line of column labels."""
    widths = [max(row[c].width for row in rows) for c in range(len(labels))]
    height = rows[0][0].height
    canvas = Image.new("RGB", (sum(widths) + pad * (len(widths) + 1),
                               label_h + len(rows) * (height + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = pad
    for c, label in enumerate(labels):
        draw.text((x, 3), label, fill=(0, 0, 0))
        for r, row in enumerate(rows):
            canvas.paste(row[c], (x, label_h + pad + r * (height + pad)))
        x += widths[c] + pad
    return canvas


def strip(rows: list[list[Image.Image]], labels: list[str], pad: int = 6, label_w: int = 130) -> Image.Image:
    """One column per photo and one row per label: photos of any aspect ratio pack without gaps."""
    widths = [row[0].width for row in rows]
    height = rows[0][0].height
    canvas = Image.new("RGB", (label_w + sum(widths) + pad * (len(widths) + 1),
                               len(labels) * (height + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for r, label in enumerate(labels):
        y = pad + r * (height + pad)
        draw.text((pad, y + height // 2 - 6), label, fill=(0, 0, 0))
        x = label_w + pad
        for c, row in enumerate(rows):
            canvas.paste(row[r], (x, y))
            x += widths[c] + pad
    return canvas


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="run directory or checkpoint")
    p.add_argument("photos", nargs="*", help="photos (default: RUN/data/test_photos)")
    p.add_argument("-o", "--out", default=str(REPO / "docs" / "before_after.png"))
    p.add_argument("--backgrounds", nargs="+", default=["keep", "white", "transparent"])
    p.add_argument("--size", default="256", help="--size passed to toonkit translate (N or original)")
    p.add_argument("--rows", type=int, default=3, help="photos shown (the first ones, sorted)")
    p.add_argument("--height", type=int, default=160, help="tile height in the figure")
    p.add_argument("--device", default="auto")
    p.add_argument("--layout", choices=["rows", "columns"], default="rows",
                   help="rows: one row per photo; columns: one column per photo (packs mixed aspect ratios)")
    args = p.parse_args(argv)

    from toonkit.cli.main import main as toonkit_main

    photos = [Path(x) for x in args.photos]
    if not photos:
        folder = Path(args.run) / "data" / "test_photos"
        photos = sorted(folder.glob("*.png")) + sorted(folder.glob("*.jpg"))
        if not photos:
            p.error(f"no photos given and none in {folder}")
    photos = sorted(photos)[: args.rows]
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.backgrounds:
            cmd = ["translate", args.run, *map(str, photos), "-o", f"{tmp}/{mode}", "--background", mode,
                   "--size", args.size, "--device", args.device, "-q"]
            print("toonkit " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
            if toonkit_main(cmd) != 0:
                print(f"toonkit translate failed for --background {mode}", file=sys.stderr)
                return 1
        rows = [[tile(photo, args.height)] + [tile(Path(tmp) / mode / f"{photo.stem}.png", args.height)
                                               for mode in args.backgrounds] for photo in photos]
        labels = ["photo"] + [f"--background {m}" for m in args.backgrounds]
        figure = (strip if args.layout == "columns" else grid)(rows, labels)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.save(out)
    print(f"wrote {out} ({figure.width}×{figure.height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
