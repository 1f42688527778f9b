"""Face-aware translation, measured: ``--faces auto`` against ``off`` on full-body photos.

For each photo of ../shared/data/people whose largest face is small for the model (so ``auto`` repaints
it), both modes translate the photo as ``toonkit translate MODEL PHOTO`` does, and the face region (the
portrait square around the face, :func:`toonkit.translate.faces.portrait_region`, resized to 128²) is
scored:

- **style distance**: the Gram-matrix distance (VGG16 relu1_2 … relu4_3, ImageNet weights from
  ``TOONKIT_WEIGHTS_DIR``) between the face region and the mean Gram matrix of the same regions of the
  style's own hand-painted portraits (../shared/data/handpainted); lower is closer to the style;
- **skin ΔL\\***: CIELAB lightness of the face's inner box (the middle 50 % of the detector's box),
  output minus photo; the model's dark-smudge failure is a large negative value. The same is measured on
  close-up selfies (../shared/data/selfies), where faces are at the model's scale, as the target;
- **time**: CPU seconds per photo of each mode.

Differences are per photo (auto − off), with 95 % bootstrap intervals over photos.

Usage:
    TOONKIT_WEIGHTS_DIR=../shared/weights python benchmarks/faces_bench.py [--model handpainted] [--n 16]
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch
from kornia.color import rgb_to_lab
from PIL import Image

import toonkit
from toonkit.bench.report import cpu_name, git_commit
from toonkit.losses import gram_matrix
from toonkit.translate.faces import PORTRAIT_FACE, portrait_region, small_faces
from toonkit.core.geometry import resize

SHARED = Path(__file__).resolve().parents[2] / "shared"
LAYERS = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]


def load(path: Path) -> torch.Tensor:
    im = Image.open(path).convert("RGB")
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1


def region_crop(x: torch.Tensor, face) -> torch.Tensor:
    h, w = x.shape[-2:]
    x0, y0, x1, y1 = portrait_region(face).bounds(h, w)
    return resize(x[..., y0:y1, x0:x1], (128, 128))


def grams(vgg, crop: torch.Tensor) -> list[torch.Tensor]:
    with torch.no_grad():
        feats = vgg(crop)
    return [gram_matrix(feats[k])[0] for k in LAYERS]


def style_distance(g: list[torch.Tensor], ref: list[torch.Tensor]) -> float:
    return float(sum(((a - b) ** 2).sum().sqrt() / b.norm() for a, b in zip(g, ref)) / len(ref))


def skin_l(x: torch.Tensor, face) -> float:
    x0, y0, x1, y1 = face.box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 4, (y1 - y0) / 4
    h, w = x.shape[-2:]
    a, b = max(0, int(cy - hh)), min(h, int(cy + hh) + 1)
    c, d = max(0, int(cx - hw)), min(w, int(cx + hw) + 1)
    patch = (x[..., a:b, c:d].clamp(-1, 1) + 1) / 2
    return float(rgb_to_lab(patch)[:, 0].mean())


def boot(values: list[float], n: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    v = np.asarray(values)
    rng = np.random.default_rng(seed)
    means = [rng.choice(v, len(v)).mean() for _ in range(n)]
    return float(v.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="handpainted")
    p.add_argument("--n", type=int, default=16, help="full-body photos to score")
    p.add_argument("--refs", type=int, default=40, help="hand-painted portraits for the style's Gram mean")
    p.add_argument("--selfies", type=int, default=12)
    p.add_argument("--colors", choices=["style", "keep"], default="keep",
                   help="the translate colors option (keep: toonkit translate's default)")
    p.add_argument("--out", default=str(Path(__file__).with_name("faces.md")))
    args = p.parse_args()
    torch.manual_seed(0)
    toon = toonkit.load(args.model, device="cpu", masker=False)
    detector = toonkit.build("face_detector", "mtcnn")
    toon.face_detector = detector
    vgg = toonkit.build("feature", "vgg", arch="vgg16", layers=LAYERS, weights="imagenet").eval()

    ref_grams = []
    for path in sorted((SHARED / "data" / "handpainted").glob("*.jpg"))[: args.refs]:
        x = load(path)
        faces = detector.detect(x)[0]
        if faces:
            ref_grams.append(grams(vgg, region_crop(x, faces[0])))
    ref = [torch.stack(gs).mean(0) for gs in zip(*ref_grams)]

    selfie_dl = []
    for path in sorted((SHARED / "data" / "selfies").glob("*.jpg"))[: args.selfies]:
        x = load(path)
        faces = detector.detect(x)[0]
        if faces:
            y = toon.translate(x[0], faces="off", colors=args.colors)[None]
            selfie_dl.append(skin_l(y, faces[0]) - skin_l(x, faces[0]))

    rows = []
    for path in sorted((SHARED / "data" / "people" / "photos").glob("*.jpg"), key=lambda q: int(q.stem)):
        if len(rows) >= args.n:
            break
        x = load(path)
        hw = toon.target_size(*x.shape[-2:])
        x = resize(x, hw)
        faces = detector.detect(x)[0]
        if not faces:
            continue
        face = max(faces, key=lambda f: f.height)
        work_face = face.height * min(toon.working_size(*hw)) / min(hw)
        # full-body and group photos: the largest face is under half a portrait's face at the working size
        if face not in small_faces(faces, hw, toon.working_size(*hw), toon.work_size) or \
                work_face > 0.5 * PORTRAIT_FACE * toon.work_size:
            continue
        out = {}
        for mode in ("off", "auto"):
            start = time.process_time()
            y = toon.translate(x[0], faces=mode, colors=args.colors)[None]
            out[mode] = (y, time.process_time() - start)
        row = {"photo": path.name, "face_px": face.height, "face_work": work_face}
        for mode, (y, seconds) in out.items():
            row[f"style_{mode}"] = style_distance(grams(vgg, region_crop(y, face)), ref)
            row[f"dl_{mode}"] = skin_l(y, face) - skin_l(x, face)
            row[f"t_{mode}"] = seconds
        rows.append(row)
        print(row, flush=True)

    def col(k: str) -> list[float]:
        return [r[k] for r in rows]

    d_style = boot([a - b for a, b in zip(col("style_auto"), col("style_off"))])
    d_dl = boot([abs(a) - abs(b) for a, b in zip(col("dl_auto"), col("dl_off"))])
    d_t = boot([a - b for a, b in zip(col("t_auto"), col("t_off"))])
    lines = [
        "# Face-aware translation: `--faces auto` against `off`",
        "",
        f"Model `{args.model}`; {len(rows)} full-body photos of ../shared/data/people (the first, by number, whose "
        f"largest face is under half a portrait's face height at the working size); style reference: the face regions of {len(ref_grams)} "
        f"hand-painted portraits; selfie reference: {len(selfie_dl)} selfies. Device: {cpu_name()}, "
        f"{torch.get_num_threads()} torch thread(s), a machine shared with other jobs (times are CPU seconds of "
        f"this process); torch {torch.__version__}, Python {platform.python_version()}; commit `{git_commit(Path(__file__).resolve().parents[1])}`; "
        "command `TOONKIT_WEIGHTS_DIR=../shared/weights python benchmarks/faces_bench.py "
        f"--model {args.model} --n {args.n} --colors {args.colors}`.",
        "",
        "| | off | auto | auto − off (95 % CI) |",
        "|---|---|---|---|",
        f"| face-region style distance (Gram, VGG16; lower = closer to the style) | {np.mean(col('style_off')):.3f} "
        f"| {np.mean(col('style_auto')):.3f} | {d_style[0]:+.3f} [{d_style[1]:+.3f}, {d_style[2]:+.3f}] |",
        f"| skin ΔL* (output − photo) | {np.mean(col('dl_off')):+.1f} | {np.mean(col('dl_auto')):+.1f} | "
        f"|ΔL*| {d_dl[0]:+.1f} [{d_dl[1]:+.1f}, {d_dl[2]:+.1f}] |",
        f"| CPU seconds per photo | {np.mean(col('t_off')):.2f} | {np.mean(col('t_auto')):.2f} | "
        f"{d_t[0]:+.2f} [{d_t[1]:+.2f}, {d_t[2]:+.2f}] |",
        "",
        f"Skin ΔL* of the same model on close-up selfies (faces at its scale): {np.mean(selfie_dl):+.1f} "
        f"(mean of {len(selfie_dl)}).",
        "",
        "| photo | face height (px; at the working size) | style off | style auto | ΔL* off | ΔL* auto | s off | s auto |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {r['photo']} | {r['face_px']:.0f}; {r['face_work']:.0f} | {r['style_off']:.3f} | {r['style_auto']:.3f} | "
          f"{r['dl_off']:+.1f} | {r['dl_auto']:+.1f} | {r['t_off']:.2f} | {r['t_auto']:.2f} |" for r in rows],
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[:12]))


if __name__ == "__main__":
    main()
