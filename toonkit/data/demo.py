"""A small synthetic selfie → cartoon dataset, generated offline and deterministically.

Photos show people-like figures (hair, head with eyes, brows, nose and mouth, neck, torso) with
shading and sensor noise over varied photographic backgrounds (gradients, textures, blurred clutter);
each has its exact person mask (the alpha the figure was composited with, anti-aliased at the edge).
Cartoons show flat-coloured figures with dark outlines, mostly on saturated red backgrounds, like the
paper's hand-painted set, so that a plain CartoonGAN learns to paint faces red: the paper's failure
case in miniature.

Every image is drawn from its own ``numpy`` generator seeded with ``(seed, split, index)``, so the same
seed gives byte-identical files, and changing ``n`` does not change the first images.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from toonkit.io_utils import temp_sibling

__all__ = ["make_demo"]

PathLike = str | os.PathLike

_SS = 2  # supersampling factor for anti-aliased shapes

_SKIN = [(241, 205, 180), (224, 172, 138), (198, 140, 100), (160, 105, 70), (110, 70, 45), (250, 220, 200)]
_HAIR = [(25, 20, 18), (60, 40, 25), (110, 70, 35), (180, 140, 80), (200, 190, 170), (120, 30, 25)]
_CLOTHES = [(30, 60, 140), (200, 200, 205), (40, 40, 45), (90, 130, 70), (150, 40, 60), (230, 190, 60),
            (70, 150, 170), (120, 80, 150)]
_RED_BG = (0.75, (190, 240), (10, 50), (15, 55))  # share of red backgrounds, then R, G, B ranges
_OTHER_BG = [(250, 245, 235), (120, 170, 220), (240, 210, 90), (170, 210, 160), (230, 170, 190)]


def _color(rng: np.random.Generator, palette: list[tuple[int, int, int]], jitter: int = 12) -> np.ndarray:
    c = np.array(palette[int(rng.integers(len(palette)))], dtype=np.float64)
    return np.clip(c + rng.normal(0, jitter, 3), 0, 255)


# ---------------------------------------------------------------------------------------------------
# figure layout (shared by photos and cartoons)


def _layout(rng: np.random.Generator, s: int) -> dict[str, Any]:
    """Random geometry of one figure on an s×s canvas (supersampled coordinates)."""
    head_r = s * rng.uniform(0.14, 0.2)
    cx = s * rng.uniform(0.36, 0.64)
    cy = s * rng.uniform(0.33, 0.45)
    rx, ry = head_r * rng.uniform(0.82, 0.95), head_r * rng.uniform(1.05, 1.2)
    shoulder = head_r * rng.uniform(2.0, 2.8)
    neck_w = rx * rng.uniform(0.45, 0.6)
    torso_top = cy + ry * rng.uniform(1.05, 1.25)
    return {
        "cx": cx, "cy": cy, "rx": rx, "ry": ry,
        "hair_long": bool(rng.random() < 0.45),
        "hair_volume": rng.uniform(1.08, 1.25),
        "fringe": rng.uniform(0.15, 0.45),
        "neck": (cx - neck_w / 2, cy + ry * 0.7, cx + neck_w / 2, torso_top + head_r * 0.3),
        "torso": (cx - shoulder, torso_top, cx + shoulder, s + shoulder),
        "eye_dx": rx * rng.uniform(0.36, 0.45), "eye_y": cy - ry * rng.uniform(0.0, 0.12),
        "eye_r": rx * rng.uniform(0.12, 0.17),
        "gaze": rng.uniform(-0.3, 0.3),
        "mouth_y": cy + ry * rng.uniform(0.45, 0.6), "mouth_w": rx * rng.uniform(0.35, 0.55),
        "smile": bool(rng.random() < 0.6),
    }


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> tuple[float, float, float, float]:
    return (cx - rx, cy - ry, cx + rx, cy + ry)


def _person_parts(g: dict) -> list[tuple[str, str, tuple[Any, ...]]]:
    """(name, shape, box) in painting order; 'hair_back' and the body form the silhouette."""
    cx, cy, rx, ry = g["cx"], g["cy"], g["rx"], g["ry"]
    hv = g["hair_volume"]
    parts = []
    if g["hair_long"]:
        parts.append(("hair", "rect", (cx - rx * hv, cy - ry * 0.2, cx + rx * hv, cy + ry * 1.5)))
    parts += [
        ("hair", "ellipse", _ellipse(cx, cy - ry * 0.12, rx * hv, ry * hv)),
        ("clothes", "torso", g["torso"]),
        ("neck", "rect", g["neck"]),
        ("skin", "ellipse", _ellipse(cx, cy, rx, ry)),
        ("hair", "fringe", _ellipse(cx, cy - ry * 0.12, rx * hv, ry * hv)),
    ]
    return parts


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[float, ...], fill, g: dict,
                outline=None, width: int = 0) -> None:
    if shape == "ellipse":
        draw.ellipse(box, fill=fill, outline=outline, width=width)
    elif shape == "rect":
        draw.rectangle(box, fill=fill, outline=outline, width=width)
    elif shape == "torso":
        r = (box[2] - box[0]) * 0.3
        draw.rounded_rectangle(box, radius=r, fill=fill, outline=outline, width=width)
    elif shape == "fringe":  # the cap of the hair ellipse above the forehead line
        _x0, y0, _x1, y1 = box
        cut = g["cy"] - g["ry"] * (1 - g["fringe"])
        k = float(np.clip(((y0 + y1) / 2 - cut) / ((y1 - y0) / 2), 0.0, 1.0))
        a = float(np.degrees(np.arcsin(k)))
        draw.chord(box, 180 + a, 360 - a, fill=fill, outline=outline, width=width)


def _face(draw: ImageDraw.ImageDraw, g: dict, s: float, colors: dict, outline, width: int,
          cartoon: bool) -> None:
    cx, rx = g["cx"], g["rx"]
    er = g["eye_r"] * (1.35 if cartoon else 1.0)
    for side in (-1, 1):
        ex, ey = cx + side * g["eye_dx"], g["eye_y"]
        draw.ellipse(_ellipse(ex, ey, er * 1.5, er), fill=(245, 245, 240), outline=outline, width=width)
        ir = er * 0.75
        draw.ellipse(_ellipse(ex + g["gaze"] * er * 0.5, ey, ir, ir), fill=colors["iris"])
        draw.ellipse(_ellipse(ex + g["gaze"] * er * 0.5, ey, ir * 0.45, ir * 0.45), fill=(10, 10, 10))
        if cartoon:  # catch-light
            draw.ellipse(_ellipse(ex + g["gaze"] * er * 0.5 - ir * 0.3, ey - ir * 0.3, ir * 0.25, ir * 0.25),
                         fill=(255, 255, 255))
        by = ey - er * 2.0
        draw.line((ex - er * 1.6, by + er * 0.3, ex + er * 1.6, by - side * er * 0.1),
                  fill=colors["brow"], width=max(1, int(er * 0.45)))
    ny = (g["eye_y"] + g["mouth_y"]) / 2
    draw.line((cx, ny - rx * 0.15, cx - rx * 0.08, ny + rx * 0.12), fill=colors["nose"],
              width=max(1, int(s * 0.006)))
    mw, my = g["mouth_w"], g["mouth_y"]
    if g["smile"]:
        draw.chord((cx - mw, my - mw * 0.5, cx + mw, my + mw * 0.5), 0, 180, fill=colors["mouth"],
                   outline=outline, width=width)
    else:
        draw.ellipse(_ellipse(cx, my, mw * 0.8, mw * 0.22), fill=colors["mouth"], outline=outline,
                     width=width)


def _palette(rng: np.random.Generator) -> dict[str, tuple[int, ...]]:
    skin = _color(rng, _SKIN)
    return {
        "skin": tuple(int(v) for v in skin),
        "hair": tuple(int(v) for v in _color(rng, _HAIR)),
        "clothes": tuple(int(v) for v in _color(rng, _CLOTHES, 20)),
        "iris": tuple(int(v) for v in _color(rng, [(70, 45, 25), (60, 90, 130), (70, 110, 60), (40, 30, 25)])),
        "brow": tuple(int(v) for v in np.clip(_color(rng, _HAIR) * 0.8, 0, 255)),
        "nose": tuple(int(v) for v in skin * 0.78),
        "neck": tuple(int(v) for v in skin * 0.8),
        "mouth": tuple(int(v) for v in np.clip(np.array([185, 75, 80]) + rng.normal(0, 12, 3), 0, 255)),
    }


# ---------------------------------------------------------------------------------------------------
# photos


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    grid = rng.random((cells, cells)).astype(np.float32)
    img = Image.fromarray((grid * 255).astype(np.uint8), "L").resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Photographic background: gradient, texture or blurred clutter (float H×W×3 in 0..255)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c0, c1 = rng.uniform(20, 235, 3), rng.uniform(20, 235, 3)
    base = c0 + (c1 - c0) * t[..., None]
    kind = rng.choice(["gradient", "texture", "clutter"])
    if kind == "texture":
        octaves = [_value_noise(rng, size, c) * w for c, w in ((4, 0.5), (9, 0.3), (23, 0.2))]
        noise = octaves[0] + octaves[1] + octaves[2]
        tint = rng.uniform(0.4, 1.0, 3)
        base = base * (0.6 + 0.8 * (noise[..., None] - 0.5) * tint + 0.4)
        if rng.random() < 0.5:  # stripes (blinds, tiles, shelves)
            f = rng.uniform(6, 18)
            base = base * (0.85 + 0.15 * np.sign(np.sin(2 * np.pi * f * (yy if rng.random() < 0.5 else xx))))[..., None]
    elif kind == "clutter":
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(6, 16))):
            x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
            w, h = rng.uniform(0.08, 0.5, 2) * size
            fill = tuple(int(v) for v in rng.uniform(0, 255, 3))
            (draw.rectangle if rng.random() < 0.6 else draw.ellipse)((x0, y0, x0 + w, y0 + h), fill=fill)
        img = img.filter(ImageFilter.GaussianBlur(size * rng.uniform(0.01, 0.03)))
        base = np.asarray(img, dtype=np.float32)
    return np.clip(base, 0, 255).astype(np.float32)


def _shading(g: dict, s: int, light: np.ndarray) -> np.ndarray:
    """Soft 3-D shading: a lit sphere for the head, a lit cylinder for the body, plus falloff."""
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    u, v = (xx - g["cx"]) / g["rx"], (yy - g["cy"]) / g["ry"]
    r2 = u * u + v * v
    nz = np.sqrt(np.clip(1 - r2, 0, 1))
    head = 0.55 + 0.45 * np.clip(u * light[0] + v * light[1] + nz * light[2], 0, 1)
    x0, _, x1, _ = g["torso"]
    bu = (xx - (x0 + x1) / 2) / ((x1 - x0) / 2)
    body = 0.6 + 0.4 * np.clip(bu * light[0] + np.sqrt(np.clip(1 - bu * bu, 0, 1)) * light[2], 0, 1)
    return np.where(r2 < 1.3, head, body).astype(np.float32)


def _photo(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    s = size * _SS
    g = _layout(rng, s)
    colors = _palette(rng)
    layer = Image.new("RGB", (s, s))
    alpha = Image.new("L", (s, s), 0)
    draw, adraw = ImageDraw.Draw(layer), ImageDraw.Draw(alpha)
    for name, shape, box in _person_parts(g):
        _draw_shape(draw, shape, box, colors[name], g)
        _draw_shape(adraw, shape, box, 255, g)
    _face(draw, g, s, colors, None, 0, cartoon=False)
    light = rng.normal(0, 1, 3)
    light[2] = abs(light[2]) + 1.0
    light /= np.linalg.norm(light)
    person = np.asarray(layer, dtype=np.float32) * _shading(g, s, light)[..., None]
    a = np.asarray(alpha, dtype=np.float32) / 255.0
    # Box-downsample the premultiplied figure and its alpha: the mask is exactly the compositing alpha.
    def down(x: np.ndarray) -> np.ndarray:
        return x.reshape(size, _SS, size, _SS, *x.shape[2:]).mean(axis=(1, 3))

    a_small = down(a)
    premult = down(person * a[..., None])
    bg = _background(rng, size)
    img = premult + (1 - a_small[..., None]) * bg
    img = img * rng.uniform(0.85, 1.1) + rng.normal(0, rng.uniform(2, 6), img.shape)  # exposure, noise
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), np.rint(a_small * 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------
# cartoons


def _cartoon(rng: np.random.Generator, size: int) -> np.ndarray:
    s = size * _SS
    g = _layout(rng, s)
    colors = _palette(rng)
    # flatter, brighter cartoon skin
    colors["skin"] = tuple(int(min(255, c * 1.08 + 10)) for c in colors["skin"])
    colors["neck"] = tuple(int(c * 0.88) for c in colors["skin"])
    share, rr, gr, br = _RED_BG
    bg: tuple[int, ...]
    if rng.random() < share:
        bg = (int(rng.integers(*rr)), int(rng.integers(*gr)), int(rng.integers(*br)))
    else:
        bg = tuple(int(v) for v in _color(rng, _OTHER_BG, 10))
    img = Image.new("RGB", (s, s), bg)
    draw = ImageDraw.Draw(img)
    ink = tuple(int(v) for v in rng.integers(10, 45, 3))
    width = max(2, int(s * rng.uniform(0.008, 0.014)))
    for name, shape, box in _person_parts(g):
        _draw_shape(draw, shape, box, colors[name], g, outline=ink, width=width)
    _face(draw, g, s, colors, ink, max(1, width // 2), cartoon=True)
    if rng.random() < 0.5:  # a flat cheek blush
        for side in (-1, 1):
            bx, by = g["cx"] + side * g["eye_dx"] * 1.1, g["mouth_y"] - g["ry"] * 0.2
            draw.ellipse(_ellipse(bx, by, g["rx"] * 0.16, g["rx"] * 0.09), fill=(240, 150, 150))
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS))


# ---------------------------------------------------------------------------------------------------


def _save(arr: np.ndarray, path: Path) -> None:
    Image.fromarray(arr).save(path, format="PNG", compress_level=6)


def make_demo(root: PathLike, n: int = 48, size: int = 128, seed: int = 0, n_test: int = 8
              ) -> dict[str, Path]:
    """Write a synthetic selfie → cartoon dataset under ``root``.

    Layout::

        root/photos/0000.png …       people-like figures on photographic backgrounds
        root/masks/0000.png …        their person masks (same stems; 0 background … 255 person)
        root/cartoons/0000.png …     flat cartoons with dark outlines, ~75% on saturated red
        root/test_photos/, root/test_masks/   a held-out handful for benchmarks

    Args:
        root: output folder (created; existing files with the same names are overwritten).
        n: number of training photos, and of cartoons.
        size: side of the square images.
        seed: base seed; the same seed gives byte-identical files.
        n_test: number of held-out test photos (with masks).

    Returns:
        ``{"root", "photos", "masks", "cartoons", "test_photos", "test_masks"}`` → folder paths.

    Example:
        >>> paths = make_demo("demo", n=8, size=64)  # doctest: +SKIP
        >>> sorted(p.name for p in paths["photos"].iterdir())[:2]
        ['0000.png', '0001.png']
    """
    if size < 16:
        raise ValueError(f"demo images need size >= 16, got {size}")
    root = Path(root)
    names = ("photos", "masks", "cartoons", "test_photos", "test_masks")
    # written into a temporary folder and moved into place, photos last: a run killed while the set is
    # generated leaves no photos folder, so the next start makes the whole set again
    tmp = temp_sibling(root, directory=True)
    try:
        staged = {name: tmp / name for name in names}
        for p in staged.values():
            p.mkdir()
        for split, count, (photo_dir, mask_dir) in (
            (0, n, (staged["photos"], staged["masks"])),
            (1, n_test, (staged["test_photos"], staged["test_masks"])),
        ):
            for i in range(count):
                photo, mask = _photo(np.random.default_rng([seed, split, i]), size)
                _save(photo, photo_dir / f"{i:04d}.png")
                _save(mask, mask_dir / f"{i:04d}.png")
        for i in range(n):
            _save(_cartoon(np.random.default_rng([seed, 2, i]), size), staged["cartoons"] / f"{i:04d}.png")
        root.mkdir(parents=True, exist_ok=True)
        for name in (*names[1:], names[0]):
            dest = root / name
            if not dest.exists():
                os.replace(staged[name], dest)
                continue
            for f in sorted(staged[name].iterdir()):  # into an existing set: file by file, each atomic
                os.replace(f, dest / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"root": root, **{name: root / name for name in names}}
