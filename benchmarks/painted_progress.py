"""The training samples of suite_painted's two runs, side by side by adversarial step: where CartoonGAN's
colours start to drift and what Selfie-GAN does at the same step.

    python benchmarks/painted_progress.py   # writes benchmarks/results/suite_painted/progress.png
"""
from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw

RESULTS = Path(__file__).resolve().parent / "results" / "suite_painted"


def adversarial_samples(run: Path) -> dict[int, Path]:
    """Sample grids of the adversarial phase by global step."""
    found = {}
    for path in sorted((run / "samples").glob("adversarial_*.png")):
        found[int(re.findall(r"\d+", path.stem)[0])] = path
    return found


def main() -> None:
    runs = RESULTS / "work" / "runs"
    columns = []  # (label, image): the photo column once, then the output column of each sample
    for name, offset in (("cartoongan", 280), ("selfie_gan", 1400)):  # steps before the adversarial phase
        for step, path in adversarial_samples(runs / name).items():
            grid = Image.open(path).convert("RGB")
            tile = grid.width // (3 if name == "selfie_gan" else 2)  # photo | output (| mask)
            if not columns:
                columns.append(("photo", grid.crop((0, 0, tile, grid.height))))
            columns.append((f"{name} {step - offset}", grid.crop((tile, 0, 2 * tile, grid.height))))
    label_h, pad = 16, 4
    width = sum(im.width + pad for _, im in columns) + pad
    height = label_h + max(im.height for _, im in columns) + pad
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    x = pad
    for label, im in columns:
        draw.text((x, 2), label, fill=(0, 0, 0))
        canvas.paste(im, (x, label_h))
        x += im.width + pad
    out = RESULTS / "progress.png"
    canvas.save(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
