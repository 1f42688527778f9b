"""Performance record: conv peak, seconds/step of every method, generator throughput, data/edge shares.

Usage (writes benchmarks/perf.md, or --out FILE):
    python benchmarks/perf.py [--device cpu|cuda] [--size 256] [--out benchmarks/perf.md]

Every number is measured when the script runs; nothing is copied in.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

import toonkit
from toonkit.augment.edge_smooth import EdgeSmooth
from toonkit.recipe import load_recipe
from toonkit.recipe.schema import OptimSpec
from toonkit.train.optim import Group, StepContext, make_optimizer, make_scheduler
from toonkit.train.runtime import autocast
from toonkit.train.trainer import build_components

REPO = Path(__file__).resolve().parents[1]
METHODS = {"selfie_gan": "selfie_gan.yaml", "cartoongan": "cartoongan.yaml", "cyclegan": "cyclegan.yaml",
           "pix2pix": "pix2pix_outline.yaml"}
# VGG19 weights are rarely at hand offline; timings use VGG16 up to conv4_3 (same depth and cost class)
FEATURE = ["nets.feature.arch=vgg16", "nets.feature.layer=conv4_3", "nets.feature.weights=random"]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timeit(fn: Callable[[], Any], device: torch.device, warmup: int, repeat: int) -> float:
    for _ in range(warmup):
        fn()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / repeat


def conv_peak(device: torch.device, dtype: torch.dtype | None) -> float:
    """Best GFLOP/s over a few 3×3 convolutions shaped like the generator's residual blocks."""
    best = 0.0
    n = 64 if device.type == "cuda" else 4
    for ch, hw in ((128, 128), (256, 64), (512, 32)):
        conv = torch.nn.Conv2d(ch, ch, 3, padding=1, bias=False).to(device)
        x = torch.randn(n, ch, hw, hw, device=device)
        flops = 2 * ch * ch * 9 * hw * hw * n

        @torch.no_grad()
        def run(conv: torch.nn.Module = conv, x: torch.Tensor = x) -> None:
            with autocast(device, dtype):
                conv(x)

        t = timeit(run, device, 2, 5 if device.type == "cpu" else 50)
        best = max(best, flops / t / 1e9)
    return best


def method_step_time(name: str, device: torch.device, dtype: torch.dtype | None, size: int,
                     repeat: int, overrides: tuple[str, ...] = (), flops: bool = False) -> dict[str, float]:
    """Seconds per training step of every phase, batch 1 at size², full-size networks (or, with
    ``flops``, the FLOPs of one step counted by ``torch.utils.flop_counter``)."""
    recipe = load_recipe(REPO / "recipes" / METHODS[name],
                         [*(FEATURE if name in ("selfie_gan", "cartoongan") else []), f"data.size={size}",
                          *overrides])
    cls = toonkit.registry().get("method", name).factory
    method = cls(**{k: v for k, v in recipe.data["method"].items() if k != "type"})
    built = build_components(recipe, cls)
    method.bind(built["nets"], built["losses"], built["augment"]).to(device).train()
    x = lambda: torch.rand(1, 3, size, size, device=device) * 2 - 1  # noqa: E731
    batch = {"photo": x(), "cartoon": x(), "mask": torch.rand(1, 1, size, size, device=device).round()}
    batch["smooth"] = built["augment"]["edge_smooth"].to(device)(batch["cartoon"]) if "edge_smooth" in built["augment"] else x()
    out = {}
    for phase in cls.phases:
        groups = {}
        for g in phase.trains:
            opt = make_optimizer(method.net[g], recipe.spec.train.optim.get(g) or OptimSpec())
            groups[g] = Group(method.net[g], opt, make_scheduler(opt, OptimSpec(), 10),
                              torch.amp.GradScaler(device.type, enabled=dtype == torch.float16))

        def step(phase: Any = phase, groups: dict[str, Group] = groups) -> None:
            ctx = StepContext(phase.name, 0, groups)
            with autocast(device, dtype):
                method.train_step(batch, ctx)

        if flops:
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as counter:
                step()
            out[phase.name] = counter.get_total_flops() / 1e9
        else:
            out[phase.name] = timeit(step, device, 1 if device.type == "cpu" else 3, repeat)
    return out


def masker_overhead(device: torch.device, size: int, repeat: int) -> dict[str, float]:
    """Selfie-GAN's adversarial step against CartoonGAN's, before and after reusing each cartoon's mask
    for its edge-smoothed twin (time is noisy on a shared machine; FLOPs are exact)."""
    out = {}
    for label, name, extra in (("cartoongan", "cartoongan", ()),
                               ("selfie_before", "selfie_gan", ("method.reuse_cartoon_mask=false",)),
                               ("selfie_after", "selfie_gan", ("method.reuse_cartoon_mask=true",))):
        out[f"{label}_gflop"] = method_step_time(name, device, None, size, 1, extra, flops=True)["adversarial"]
        out[f"{label}_s"] = method_step_time(name, device, None, size, repeat, extra)["adversarial"]
    return out


def generator_throughput(device: torch.device, dtype: torch.dtype | None, size: int, batch: int,
                         channels_last: bool = False) -> tuple[float, float]:
    """(images/s, GFLOP per image) of the default CartoonGAN generator."""
    from torch.utils.flop_counter import FlopCounterMode

    g = toonkit.build("generator", "cartoongan").to(device).eval()
    x = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    if channels_last:
        g, x = g.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        g(x[:1])
    gflop = counter.get_total_flops() / 1e9

    @torch.no_grad()
    def run() -> None:
        with autocast(device, dtype):
            g(x)

    t = timeit(run, device, 1 if device.type == "cpu" else 5, 3 if device.type == "cpu" else 30)
    return batch / t, gflop


def data_and_edge_share(device: torch.device, size: int, step_seconds: float) -> dict[str, float]:
    """Seconds to load one batch-1 sample (decode, resize, crop in the loader) and to edge-smooth one
    cartoon on the device, as fractions of a Selfie-GAN adversarial step."""
    from toonkit.data import make_demo
    from toonkit.data.datasets import CartoonDataset, PhotoDataset

    with tempfile.TemporaryDirectory() as tmp:
        make_demo(tmp, n=8, size=size, seed=0)
        photos = PhotoDataset(Path(tmp) / "photos", masks=Path(tmp) / "masks", size=size)
        cached = CartoonDataset(Path(tmp) / "cartoons", size=size, cache_dir=Path(tmp) / "cache")
        uncached = CartoonDataset(Path(tmp) / "cartoons", size=size, smooth=True, cache_dir=None)
        load_cached = timeit(lambda: (photos[0], cached[0]), torch.device("cpu"), 2, 10)
        load_uncached = timeit(lambda: (photos[0], uncached[0]), torch.device("cpu"), 2, 10)
    smoother = EdgeSmooth().to(device)
    cartoon = torch.rand(1, 3, size, size, device=device) * 2 - 1
    edge = timeit(lambda: smoother(cartoon), device, 2, 10)
    return {"load_s": load_cached, "load_uncached_s": load_uncached, "edge_smooth_s": edge,
            "load_share": load_cached / step_seconds, "edge_share_on_device": edge / step_seconds}


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or "cpu"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {torch.get_num_threads()} threads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "perf.md"))
    parser.add_argument("--json", default=None, help="also write the raw numbers here")
    args = parser.parse_args()
    device = torch.device(args.device)
    dtypes = {"fp32": None, "bf16": torch.bfloat16}
    res: dict[str, Any] = {"device": describe(device), "torch": torch.__version__, "size": args.size}
    res["conv_peak"] = {k: conv_peak(device, d) for k, d in dtypes.items()}
    res["steps"] = {k: {m: method_step_time(m, device, d, args.size, args.repeat) for m in METHODS}
                    for k, d in dtypes.items()}
    res["generator"] = {}
    for k, d in dtypes.items():
        for b in (1, 8):
            ips, gflop = generator_throughput(device, d, args.size, b)
            res["generator"][f"{k}_b{b}"] = {"img_per_s": ips, "gflop_per_img": gflop,
                                             "gflops": ips * gflop, "of_peak": ips * gflop / res["conv_peak"][k]}
    adv = res["steps"]["fp32"]["selfie_gan"]["adversarial"]
    res["shares"] = data_and_edge_share(device, args.size, adv)
    res["selfie_vs_cartoongan_adv"] = adv / res["steps"]["fp32"]["cartoongan"]["adversarial"]
    res["masker_overhead"] = masker_overhead(device, args.size, args.repeat)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=REPO).stdout.strip() or "unknown"
    res["commit"] = commit
    res["command"] = "python " + " ".join(sys.argv)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    Path(args.out).write_text(render(res))
    print(render(res))


def render(r: dict[str, Any]) -> str:
    lines = [f"## {r['device']}", "", f"torch {r['torch']}, commit `{r['commit']}`, command `{r['command']}`,",
             f"images {r['size']}², batch 1 for training steps.", "",
             "| | fp32 | bf16 |", "|---|---|---|",
             f"| conv peak (GFLOP/s, best 3×3 conv) | {r['conv_peak']['fp32']:.1f} | {r['conv_peak']['bf16']:.1f} |"]
    for m in r["steps"]["fp32"]:
        for phase, t in r["steps"]["fp32"][m].items():
            lines.append(f"| {m} `{phase}` step (s) | {t:.3f} | {r['steps']['bf16'][m][phase]:.3f} |")
    for b in (1, 8):
        f, h = r["generator"][f"fp32_b{b}"], r["generator"][f"bf16_b{b}"]
        lines.append(f"| generator inference, batch {b} (img/s) | {f['img_per_s']:.2f} | {h['img_per_s']:.2f} |")
        lines.append(f"| generator achieved GFLOP/s, batch {b} (share of conv peak) | {f['gflops']:.1f} "
                     f"({f['of_peak']:.0%}) | {h['gflops']:.1f} ({h['of_peak']:.0%}) |")
    s = r["shares"]
    lines += ["", f"Generator: {r['generator']['fp32_b1']['gflop_per_img']:.1f} GFLOP per {r['size']}² image.",
              f"Data loading (decode + resize + crop of a photo, mask, cartoon and its cached smoothed twin): "
              f"{s['load_s'] * 1e3:.1f} ms = {s['load_share']:.1%} of a fp32 Selfie-GAN adversarial step "
              f"(without the cache: {s['load_uncached_s'] * 1e3:.1f} ms).",
              f"Edge smoothing one cartoon on the device: {s['edge_smooth_s'] * 1e3:.2f} ms = "
              f"{s['edge_share_on_device']:.1%} of that step (0 % of the step with the cache, the default).",
              f"Selfie-GAN adversarial step / CartoonGAN adversarial step (fp32): "
              f"{r['selfie_vs_cartoongan_adv']:.2f}×.", ""]
    if "masker_overhead" in r:
        o = r["masker_overhead"]
        lines += ["Masker overhead, before/after giving each edge-smoothed cartoon its cartoon's mask "
                  "(`method.reuse_cartoon_mask`), fp32 adversarial step:", "",
                  "| | GFLOP/step | s/step | × CartoonGAN (FLOPs) | × CartoonGAN (time) |", "|---|---|---|---|---|"]
        for label in ("cartoongan", "selfie_before", "selfie_after"):
            lines.append(f"| {label} | {o[label + '_gflop']:.1f} | {o[label + '_s']:.3f} | "
                         f"{o[label + '_gflop'] / o['cartoongan_gflop']:.3f} | {o[label + '_s'] / o['cartoongan_s']:.2f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
