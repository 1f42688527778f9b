"""A generated corpus of odd and hostile image files (nothing binary is committed).

:func:`make_corpus` writes them and returns two lists of names: ``valid`` files that must translate
(unusual but legitimate images) and ``bad`` files that must fail, each with one line. Files in neither
list (truncated images, which some decoders render in part) must do one or the other, never both.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(w: int, h: int, idat: bytes = b"", color: int = 2) -> bytes:
    """A PNG declaring ``w``×``h`` with the given (usually empty) pixel data: a few dozen bytes."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(idat))
            + _chunk(b"IEND", b""))


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _base(w: int = 40, h: int = 32, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((w, h), Image.BILINEAR)


def make_corpus(root: Path) -> tuple[list[str], list[str], list[str]]:
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    valid: list[str] = []
    bad: list[str] = []
    truncated: list[str] = []  # damaged data: decoders may render part of it, or refuse it
    rgb = _base()

    def unique(name: str) -> str:  # outputs are named by stem: a.jpg and a.png would clash
        p = Path(name)
        return f"{p.stem}_{p.suffix[1:].lower()}{p.suffix}"

    def ok(name: str, data: bytes) -> None:
        name = unique(name)
        files[name] = data
        valid.append(name)

    def fail(name: str, data: bytes) -> None:
        name = unique(name)
        files[name] = data
        bad.append(name)

    def damaged(name: str, data: bytes) -> None:
        name = unique(name)
        files[name] = data
        truncated.append(name)

    # -- unusual but valid ------------------------------------------------------------------------
    ok("rgb.png", _encode(rgb, "PNG"))
    ok("rgb.jpg", _encode(rgb, "JPEG"))
    ok("progressive.jpg", _encode(rgb, "JPEG", progressive=True))
    ok("gray.jpg", _encode(rgb.convert("L"), "JPEG"))
    ok("gray.png", _encode(rgb.convert("L"), "PNG"))
    ok("bilevel.png", _encode(rgb.convert("1"), "PNG"))
    ok("la.png", _encode(rgb.convert("LA"), "PNG"))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgb.size))
    ok("rgba.png", _encode(rgba, "PNG"))
    ok("rgba.webp", _encode(rgba, "WEBP"))
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=8)
    ok("palette.png", _encode(pal, "PNG"))
    ok("palette_transparent.png", _encode(pal, "PNG", transparency=0))
    ok("palette_transparent.gif", _encode(pal, "GIF", transparency=0))
    ok("cmyk.jpg", _encode(rgb.convert("CMYK"), "JPEG"))
    ok("cmyk.tif", _encode(rgb.convert("CMYK"), "TIFF"))
    ok("ycbcr.jpg", _encode(rgb.convert("YCbCr"), "JPEG"))
    ok("sixteen_bit.png", _encode(Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257), "PNG"))
    ok("float.tif", _encode(Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.float32) / 255), "TIFF"))
    ok("int32.tif", _encode(rgb.convert("I"), "TIFF"))
    frames = [_base(seed=i).convert("P", palette=Image.ADAPTIVE) for i in range(3)]
    ok("animated.gif", _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0))
    ok("animated.webp", _encode(_base(seed=1), "WEBP", save_all=True, append_images=[_base(seed=2)]))
    ok("rgb.bmp", _encode(rgb, "BMP"))
    ok("rgb.tiff", _encode(rgb, "TIFF", compression="tiff_deflate"))
    ok("lossless.webp", _encode(rgb, "WEBP", lossless=True))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: decoded upright
    ok("exif_rotated.jpg", _encode(rgb, "JPEG", exif=exif.tobytes()))
    ok("png_named.jpg", _encode(rgb, "PNG"))  # wrong extension: content decides
    ok("jpeg_named.png", _encode(rgb, "JPEG"))
    ok("UPPER.JPG", _encode(rgb, "JPEG"))
    ok("one_pixel.png", _encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"))
    ok("thin.png", _encode(_base(64, 2), "PNG"))
    ok("name with spaces é.png", _encode(rgb, "PNG"))
    ok("icc.jpg", _encode(rgb, "JPEG", icc_profile=b"\0" * 128))
    ok("comment.png", _encode(rgb, "PNG", pnginfo=_text_info()))

    # -- hostile or broken: each must fail with exactly one line ---------------------------------------
    fail("empty.jpg", b"")
    fail("empty.png", b"")
    fail("text.jpg", b"this is not an image, it is a text file named .jpg\n")
    fail("html.png", b"<!doctype html><html><body>404</body></html>")
    fail("random.jpg", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    fail("random.webp", np.random.default_rng(2).integers(0, 256, 512, dtype=np.uint8).tobytes())
    fail("jpeg_magic_only.jpg", b"\xff\xd8\xff")
    fail("png_signature_only.png", b"\x89PNG\r\n\x1a\n")
    fail("gif_magic_only.gif", b"GIF89a")
    fail("bmp_magic_only.bmp", b"BM")
    fail("huge_declared.png", png_header(60000, 60000))  # 3.6 gigapixels in 60 bytes
    fail("huge_but_under_pil_bomb.png", png_header(10000, 10000))  # above toonkit's pixel bound
    fail("wide_declared.png", png_header(2**31 - 1, 1))
    fail("zero_width.png", png_header(0, 10))
    fail("huge_gif.gif", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;")
    fail("huge_bmp.bmp", b"BM" + struct.pack("<IHHI", 54, 0, 0, 54)
         + struct.pack("<IiiHHIIiiII", 40, 50000, 50000, 1, 24, 0, 0, 0, 0, 0, 0))
    damaged("corrupt_idat.png", _corrupt_crc(_encode(rgb, "PNG")))  # crashed torchvision's libpng
    damaged("no_pixels.png", png_header(40, 32, idat=b""))
    damaged("garbage_after_header.jpg", _encode(rgb, "JPEG")[:20] + b"\x00" * 200)
    fail("zip_named.png", b"PK\x03\x04" + b"\x00" * 100)
    fail("pdf_named.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    fail("svg_named.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="9e9" height="9e9"/>')
    fail("utf16_text.jpg", "not an image".encode("utf-16"))

    # -- truncated: either decoded in part or one line, never both -----------------------------------------
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif"), ("BMP", "bmp"),
                     ("TIFF", "tif")):
        data = _encode(rgb.convert("P") if fmt == "GIF" else rgb, fmt)
        for frac in (0.3, 0.6, 0.95):
            name = f"truncated_{int(frac * 100)}_{ext}.{ext}"
            files[name] = data[: max(8, int(len(data) * frac))]
            truncated.append(name)

    for name, data in files.items():
        (root / name).write_bytes(data)

    # -- entries that are not plain files ----------------------------------------------------------
    (root / "folder.jpg").mkdir()  # a directory named like an image: looked into, holds nothing
    os.symlink("loop.jpg", root / "loop.jpg")  # a symlink to itself
    bad.append("loop.jpg")
    os.symlink("missing_target.png", root / "dangling.png")
    bad.append("dangling.png")
    (root / "sub").mkdir()
    (root / "sub" / "nested.png").write_bytes(_encode(rgb, "PNG"))
    valid.append("sub/nested.png")
    os.symlink("..", root / "sub" / "up")  # a folder loop: must not recurse forever
    os.mkfifo(root / "fifo.png")  # reading it would block forever
    bad.append("fifo.png")
    locked = root / "unreadable.png"
    locked.write_bytes(_encode(rgb, "PNG"))
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: then it is simply a valid file
        valid.append("unreadable.png")
    else:
        bad.append("unreadable.png")
    return valid, bad, truncated


def _text_info():  # type: ignore[no-untyped-def]
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * 10000)
    return info


def _corrupt_crc(data: bytes) -> bytes:
    i = data.index(b"IDAT") + 4 + 8  # a byte inside the pixel data: the chunk's CRC no longer matches
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
