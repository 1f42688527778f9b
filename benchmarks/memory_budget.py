"""Peak memory of ``toonkit translate`` for the worst images the budget admits, one subprocess each.

Each case writes one image (flat PNGs are a few hundred kB whatever their size), runs
``toonkit translate MODEL IMAGE -o OUT -q`` in a child process and reads the child's peak resident set
size from ``os.wait4`` (``ru_maxrss``). Memory does not depend on CPU contention, so the figures hold on a
shared machine; wall times are printed for orientation only.

    python benchmarks/memory_budget.py                       # every case, the shipped model, defaults
    python benchmarks/memory_budget.py --cases thin rgb_max  # some of them
    python benchmarks/memory_budget.py --json memory.json    # also write the figures

The cases (``TOONKIT_MAX_IMAGE_PIXELS`` = 89 478 485 decoded pixels, ``--max-pixels`` = 4096² working
pixels, at most 16384 a side):
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

MAX_SIDE_DECODED = 9459  # 9459² = 89 474 681 ≤ 89 478 485: the largest square the decoder admits


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(path: Path, width: int, height: int, channels: int = 3, depth: int = 8) -> Path:
    """A flat PNG of any size, compressed row by row (never held whole in memory)."""
    colour = {1: 0, 3: 2, 4: 6}[channels]
    sample = (b"\x80" if depth == 8 else b"\x80\x00") * channels
    row = b"\x00" + sample * width
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(height)] + [comp.flush()]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts))
                     + _chunk(b"IEND", b""))
    return path


def jpeg(path: Path, width: int, height: int) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    small.resize((width, height), Image.BILINEAR).save(path, quality=90)
    return path


#: name → (what it is, how to make it in a folder)
CASES = {
    "rgb_max": ("9459² RGB PNG: the most pixels the decoder admits",
                lambda d: png(d / "rgb_max.png", MAX_SIDE_DECODED, MAX_SIDE_DECODED)),
    "rgba_max": ("9459² RGBA PNG: alpha composited on white",
                 lambda d: png(d / "rgba_max.png", MAX_SIDE_DECODED, MAX_SIDE_DECODED, channels=4)),
    "gray16_max": ("9459² 16-bit grey PNG: scaled to 8 bits",
                   lambda d: png(d / "gray16_max.png", MAX_SIDE_DECODED, MAX_SIDE_DECODED, channels=1, depth=16)),
    "jpeg_max": ("9459² JPEG (decoded smaller by DCT scaling)", lambda d: jpeg(d / "jpeg_max.jpg", 9459, 9459)),
    "issue_9000": ("9000² RGB PNG (the issue's 255 kB file, 4.1 GB before)",
                   lambda d: png(d / "issue_9000.png", 9000, 9000)),
    "thin": ("89 000 000 × 1 RGB PNG (the issue's thin image)", lambda d: png(d / "thin.png", 89_000_000, 1)),
    "panorama": ("65536 × 1024 RGB PNG: the longest working image at defaults (256 × 16384 after the budget)",
                 lambda d: png(d / "panorama.png", 65536, 1024)),
    "photo_16mp": ("4096² RGB PNG: exactly the working budget", lambda d: png(d / "photo_16mp.png", 4096, 4096)),
    "small": ("640 × 480 RGB PNG: the baseline (imports, model)", lambda d: png(d / "small.png", 640, 480)),
}
__doc__ += "".join(f"\n- ``{name}``: {what}" for name, (what, _) in CASES.items())


def peak(cmd: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Exit code, peak RSS in MiB and wall seconds of ``cmd`` in a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        print(err[-2000:], file=sys.stderr)
    return proc.returncode, usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="handpainted")
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument("--args", default="", help="extra translate options, e.g. '--background white'")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.cases:
            what, make = CASES[name]
            image = make(folder)
            cmd = [sys.executable, "-m", "toonkit", "translate", args.model, str(image), "-o", str(folder / "out"),
                   "-q", "--overwrite", *args.args.split()]
            rc, mib, wall = peak(cmd, env)
            out = next((folder / "out").glob(image.stem + ".*"), None)
            size = None
            if out is not None:
                from PIL import Image

                with Image.open(out) as im:
                    size = f"{im.width}×{im.height}"
            rows.append({"case": name, "what": what, "file_kb": round(image.stat().st_size / 1024), "exit": rc,
                         "peak_rss_mib": round(mib), "output": size, "wall_s": round(wall, 1)})
            print(f"| `{name}` | {what} | {rows[-1]['file_kb']} kB | {size} | {rc} | **{round(mib)} MiB** | "
                  f"{wall:.1f} s |", flush=True)
            image.unlink()
            if out is not None:
                out.unlink()
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "args": args.args, "python": sys.version.split()[0],
                                               "machine": platform.processor() or platform.machine(),
                                               "rows": rows}, indent=1) + "\n")
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
