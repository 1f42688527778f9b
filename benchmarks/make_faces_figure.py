"""The faces figure: each photo | ``toonkit translate --faces off`` | ``--faces auto``, with the faces enlarged.

Runs the command itself (through :func:`toonkit.cli.main.main`) for both modes, then puts each photo, its
two translations and the region around its largest face (4× enlarged, where the difference is) side by
side. Use photos you may redistribute for anything you publish.

Usage:
    python benchmarks/make_faces_figure.py PHOTO... -o faces.png [--model handpainted] [--height 320]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

import toonkit
from toonkit.cli.main import main as toonkit_main
from toonkit.translate.faces import portrait_region, small_faces


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("photos", nargs="+")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--model", default="handpainted")
    p.add_argument("--height", type=int, default=320)
    args = p.parse_args()
    detector = toonkit.build("face_detector", "mtcnn")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        outs = {}
        for mode in ("off", "auto"):
            out = Path(tmp) / mode
            assert toonkit_main(["translate", args.model, *args.photos, "-o", str(out), "--faces", mode, "-q"]) == 0
            outs[mode] = out
        for photo in map(Path, args.photos):
            images = [Image.open(photo).convert("RGB")] + [Image.open(outs[m] / f"{photo.stem}.png") for m in ("off", "auto")]
            x = torch.from_numpy(np.asarray(images[0]).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
            faces = detector.detect(x)[0]
            scale = args.height / images[0].height
            tiles = [im.resize((round(im.width * scale), args.height), Image.LANCZOS) for im in images]
            if faces:
                # the largest face that auto repaints (where the two differ), else the largest face
                toon = toonkit.load(args.model, device="cpu", masker=False)
                hw = (images[0].height, images[0].width)
                small = small_faces(faces, hw, toon.working_size(*hw), toon.work_size) or faces
                x0, y0, x1, y1 = portrait_region(max(small, key=lambda f: f.height)).bounds(*hw)
                tiles += [im.crop((x0, y0, x1, y1)).resize((args.height, args.height), Image.LANCZOS)
                          for im in images[1:]]
            rows.append(tiles)
    width = max(sum(t.width for t in row) + 4 * (len(row) - 1) for row in rows)
    label_h = 22
    sheet = Image.new("RGB", (width, label_h + len(rows) * (args.height + 4)), "white")
    draw = ImageDraw.Draw(sheet)
    x = 0
    for label, tile in zip(["photo", "--faces off", "--faces auto", "face, off", "face, auto"], rows[0]):
        draw.text((x + 4, 4), label, fill="black")
        x += tile.width + 4
    for r, row in enumerate(rows):
        x = 0
        for tile in row:
            sheet.paste(tile, (x, label_h + r * (args.height + 4)))
            x += tile.width + 4
    sheet.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
