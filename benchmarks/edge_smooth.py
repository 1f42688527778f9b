"""Edge smoothing: fidelity of toonkit's torch implementation to the OpenCV recipe, and speed.

Fidelity: every hand-painted image, resized to 256² (cv2.INTER_AREA), goes through
  * the OpenCV reference: cvtColor(RGB2GRAY) → Canny(100, 200) → dilate(5×5 ones) →
    GaussianBlur(5×5, sigma 0) written back on the dilated pixels (taki0112's edge_smooth.py recipe,
    with OpenCV's rounded blur; "literal" below also reproduces that script's float sum truncated to
    uint8), and
  * ``toonkit.augment.edge_smooth.edge_smooth`` on the same pixels mapped to [-1, 1].
We report the mean absolute difference in gray levels (0–255), the IoU of the pixels each one changes,
and whether the Canny edge maps are identical, over the set and for the worst image.

Speed: 8×256² batches, wall time of our implementation, OpenCV (a loop over the 8 images) and
``kornia.filters.canny`` (with hysteresis), on CPU at 1 thread and at all threads, and on CUDA when
available.

Usage:
    python benchmarks/edge_smooth.py [--data DIR] [--reps N] [--out benchmarks/edge_smooth.md] [--append]

Needs opencv-python(-headless) (a dev dependency) and the hand-painted set (default:
``<repo>/../shared/data/handpainted``).
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from toonkit.augment.edge_smooth import canny, edge_smooth, rgb_to_gray_u8, to_u8
from toonkit.bench.report import cpu_name, git_commit
from toonkit.imaging import from_uint8

SIZE = 256


def opencv_reference(rgb: np.ndarray, literal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(smoothed image, Canny edges) by the OpenCV recipe; ``literal`` truncates like taki0112's loop."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, 100, 200)
    dilated = cv2.dilate(edges, np.ones((5, 5), np.uint8)) > 0
    if literal:  # np.sum of the 5×5 window times the kernel, assigned into uint8 (truncation)
        k = cv2.getGaussianKernel(5, 0)
        blurred = np.floor(cv2.sepFilter2D(rgb.astype(np.float64), -1, k, k,
                                           borderType=cv2.BORDER_REFLECT_101) + 1e-9)
        blurred = blurred.astype(np.uint8)
    else:
        blurred = cv2.GaussianBlur(rgb, (5, 5), 0)
    return np.where(dilated[..., None], blurred, rgb), edges > 0


def load_set(folder: Path) -> tuple[list[str], np.ndarray]:
    import cv2
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    imgs = [cv2.resize(np.asarray(Image.open(f).convert("RGB")), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
            for f in files]
    return [f.name for f in files], np.stack(imgs)


def fidelity(names: list[str], rgb: np.ndarray) -> dict[str, object]:
    x = from_uint8(torch.from_numpy(rgb).permute(0, 3, 1, 2)).contiguous()
    outs, edges = [], []
    for i in range(0, len(x), 16):
        xb = x[i:i + 16]
        outs.append(edge_smooth(xb))
        edges.append(canny(rgb_to_gray_u8(to_u8(xb)))[:, 0])
    ours = (torch.cat(outs).permute(0, 2, 3, 1).double().numpy() + 1) * 127.5
    our_edges = torch.cat(edges).numpy()
    res: dict[str, object] = {"n": len(names)}
    for tag, literal in (("opencv", False), ("literal", True)):
        refs = [opencv_reference(a, literal) for a in rgb]
        ref = np.stack([r[0] for r in refs]).astype(np.float64)
        mad = np.abs(ours - ref).mean(axis=(1, 2, 3))
        changed_ref = (ref != rgb).any(-1)
        changed_ours = (np.abs(ours - rgb) > 0.5).any(-1)
        union = (changed_ref | changed_ours).sum((1, 2))
        iou = np.where(union > 0, (changed_ref & changed_ours).sum((1, 2)) / np.maximum(union, 1), 1.0)
        res[tag] = {"mad_mean": float(mad.mean()), "mad_worst": float(mad.max()),
                        "mad_worst_name": names[int(mad.argmax())], "iou_mean": float(iou.mean()),
                        "iou_worst": float(iou.min()), "iou_worst_name": names[int(iou.argmin())],
                        "changed_frac": float(changed_ref.mean())}
        if not literal:
            ref_edges = np.stack([r[1] for r in refs])
            diff = (ref_edges != our_edges).sum((1, 2))
            res["edges_identical"] = int((diff == 0).sum())
            res["edge_pixels_differing"] = int(diff.sum())
            res["edge_pixels"] = int(ref_edges.sum())
    return res


def timeit(fn: Callable[[], object], reps: int, sync: Callable[[], None] = lambda: None
           ) -> tuple[float, float, float]:
    """(min wall, median wall, min process CPU time) in ms; CPU time is robust to a busy machine."""
    fn()
    sync()
    walls, cpus = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        sync()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    walls.sort()
    return walls[0] * 1e3, walls[len(walls) // 2] * 1e3, min(cpus) * 1e3


def timings(rgb: np.ndarray, reps: int) -> list[tuple[str, str, int, float, float, float]]:
    import cv2
    import kornia

    batch = rgb[:8]
    x = from_uint8(torch.from_numpy(batch).permute(0, 3, 1, 2)).contiguous()
    gray = rgb_to_gray_u8(to_u8(x))
    kernel = np.ones((5, 5), np.uint8)

    def cv_full() -> None:
        for a in batch:
            e = cv2.Canny(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), 100, 200)
            d = cv2.dilate(e, kernel)
            np.where(d[..., None] > 0, cv2.GaussianBlur(a, (5, 5), 0), a)

    def cv_canny() -> None:
        for g in gray[:, 0].numpy().astype(np.uint8):
            cv2.Canny(g, 100, 200)

    rows = []
    for threads in sorted({1, usable_cores()}):
        torch.set_num_threads(threads)
        cv2.setNumThreads(threads)
        rows.append(("toonkit edge_smooth (full recipe)", "cpu", threads, *timeit(lambda: edge_smooth(x), reps)))
        rows.append(("toonkit canny", "cpu", threads, *timeit(lambda: canny(gray), reps)))
        rows.append(("OpenCV full recipe (loop of 8)", "cpu", threads, *timeit(cv_full, reps)))
        rows.append(("OpenCV Canny (loop of 8)", "cpu", threads, *timeit(cv_canny, reps)))
        rows.append(("kornia.filters.canny (hysteresis)", "cpu", threads,
                     *timeit(lambda: kornia.filters.canny(gray / 255.0, 100 / 255, 200 / 255), max(3, reps // 10))))
    if torch.cuda.is_available():
        xc, gc = x.cuda(), gray.cuda()
        sync = torch.cuda.synchronize
        rows.append(("toonkit edge_smooth (full recipe)", "cuda", 0, *timeit(lambda: edge_smooth(xc), reps, sync)))
        rows.append(("toonkit canny", "cuda", 0, *timeit(lambda: canny(gc), reps, sync)))
        kgc = gc / 255.0
        rows.append(("kornia.filters.canny (hysteresis)", "cuda", 0,
                     *timeit(lambda: kornia.filters.canny(kgc, 100 / 255, 200 / 255), reps, sync)))
    return rows


def usable_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def report(fid: dict, rows: list, command: str, load: str) -> str:
    import cv2
    import kornia

    o, lit = fid["opencv"], fid["literal"]
    lines = [
        "# Edge smoothing: fidelity and speed",
        "",
        f"- command: `{command}`",
        f"- commit: {git_commit(REPO)}",
        f"- CPU: {cpu_name()}, {usable_cores()} of {os.cpu_count()} logical cores usable by this "
        f"process; load average at start: {load}",
        (f"- torch {torch.__version__}, kornia {kornia.__version__}, OpenCV {cv2.__version__}, "
        f"Python {platform.python_version()}"),
        f"- CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'not available'}",
        "",
        f"## Fidelity on {fid['n']} hand-painted images at {SIZE}² (gray levels 0–255)",
        "",
        "| reference | mean abs diff (mean / worst image) | IoU of changed pixels (mean / worst image) |",
        "|---|---|---|",
        (f"| OpenCV recipe (GaussianBlur rounds) | {o['mad_mean']:.3f} / {o['mad_worst']:.3f} "
        f"({o['mad_worst_name']}) | {o['iou_mean']:.5f} / {o['iou_worst']:.5f} ({o['iou_worst_name']}) |"),
        (f"| taki0112 literal (float sum truncated) | {lit['mad_mean']:.3f} / {lit['mad_worst']:.3f} "
        f"({lit['mad_worst_name']}) | {lit['iou_mean']:.5f} / {lit['iou_worst']:.5f} "
        f"({lit['iou_worst_name']}) |"),
        "",
        (f"Canny edge maps identical to `cv2.Canny` on {fid['edges_identical']} of {fid['n']} images "
        f"({fid['edge_pixels_differing']} of {fid['edge_pixels']} edge pixels differ). "
        f"The reference changes {o['changed_frac'] * 100:.1f}% of the pixels. Our output stays float (no "
        "rounding to uint8), so differences are the reference's rounding (≤ 0.5) or truncation (< 1); a "
        "pixel whose blur differs from it by less than half a level counts as unchanged, hence IoU < 1."),
        "",
        "## Speed, 8×256² RGB batch (wall time, ms)",
        "",
        "| implementation | device | threads | wall min | wall median | CPU time min |",
        "|---|---|---|---|---|---|",
    ]
    for name, dev, thr, tmin, tmed, cpu in rows:
        lines.append(f"| {name} | {dev} | {thr if dev == 'cpu' else '-'} | {tmin:.2f} | {tmed:.2f} | "
                     f"{cpu:.2f} |")
    lines += [
        "",
        ("The machine may be shared: wall min is the best estimate of the latency, median shows the "
        "noise, and CPU time (all threads of this process; host-side only for CUDA) is the cost that "
        "other processes cannot inflate much. "
        "OpenCV times are the per-image functions looped over the batch; kornia's canny blurs first "
        "and uses the L2 magnitude, so its edges differ as well as its speed."),
        "",
    ]
    return "\n".join(lines)


def _shown(arg: str) -> str:
    """An argument as the report shows it: paths relative to the repository, never machine paths."""
    if not os.path.isabs(arg):
        return arg
    path = Path(arg)
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else f"<{path.name}>"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "handpainted")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "edge_smooth.md")
    ap.add_argument("--append", action="store_true", help="append to --out instead of replacing it")
    args = ap.parse_args(argv)
    try:
        import cv2  # noqa: F401
    except ImportError:
        print("needs opencv-python-headless (pip install opencv-python-headless)", file=sys.stderr)
        return 2
    if not args.data.is_dir():
        print(f"hand-painted images not found at {args.data} (pass --data)", file=sys.stderr)
        return 2
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    names, rgb = load_set(args.data)
    fid = fidelity(names, rgb)
    rows = timings(rgb, args.reps)
    command = "python " + " ".join(shlex.quote(_shown(a)) for a in [__file__, *sys.argv[1:]])
    text = report(fid, rows, command, load)
    print(text)
    if args.append and args.out.exists():
        text = args.out.read_text().rstrip("\n") + "\n\n" + text
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
