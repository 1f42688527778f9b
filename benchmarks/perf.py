"""Performance record: conv peak, seconds/step of every method, generator throughput, data/edge shares.

Usage (replaces this device's section of benchmarks/perf.md, or of --out FILE, keeping the rest):
    python benchmarks/perf.py [--device cpu|cuda] [--size 256] [--out benchmarks/perf.md]
    python benchmarks/perf.py --train   # only the CPU training-step section (benchmarks/perf_train.py)

Every number is measured when the script runs; nothing is copied in.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

import toonkit
from toonkit.augment.edge_smooth import EdgeSmooth
from toonkit.bench.report import cpu_name, git_commit
from toonkit.core.runtime import autocast
from toonkit.methods.assemble import assemble
from toonkit.methods.context import Group, StepContext
from toonkit.metrics.perf import count_flops, median_seconds
from toonkit.recipe import load_recipe
from toonkit.recipe.schema import OptimSpec
from toonkit.train.optim import make_optimizer, make_scheduler

REPO = Path(__file__).resolve().parents[1]
METHODS = {"selfie_gan": "selfie_gan.yaml", "cartoongan": "cartoongan.yaml", "cyclegan": "cyclegan.yaml",
           "pix2pix": "pix2pix_outline.yaml"}
# VGG19 weights are rarely at hand offline; timings use VGG16 up to conv4_3 (same depth and cost class)
FEATURE = ["nets.feature.arch=vgg16", "nets.feature.layer=conv4_3", "nets.feature.weights=random"]


def conv_peak(device: torch.device, dtype: torch.dtype | None, repeat: int = 5) -> dict[str, Any]:
    """This machine's convolution peak: the best GFLOP/s over a sweep of 3×3 convolutions at the widths
    the generator uses (64 channels at 256² up to 512 at 32²), small and large batches, contiguous and
    channels-last. Returns ``{"gflops": best, "shape": the convolution that reached it}``."""
    best: dict[str, Any] = {"gflops": 0.0, "shape": ""}
    batches = (16, 64) if device.type == "cuda" else (1, 8)
    for ch, hw in ((64, 256), (128, 128), (256, 64), (512, 32)):
        for n in batches:
            for fmt in (torch.contiguous_format, torch.channels_last):
                conv = torch.nn.Conv2d(ch, ch, 3, padding=1, bias=False).to(device, memory_format=fmt)
                x = torch.randn(n, ch, hw, hw, device=device).contiguous(memory_format=fmt)
                flops = 2 * ch * ch * 9 * hw * hw * n

                @torch.no_grad()
                def run(conv: torch.nn.Module = conv, x: torch.Tensor = x) -> None:
                    with autocast(device, dtype):
                        conv(x)

                gflops = flops / median_seconds(run, device, 3, repeat if device.type == "cpu" else 20) / 1e9
                if gflops > best["gflops"]:
                    layout = "channels-last" if fmt == torch.channels_last else "contiguous"
                    best = {"gflops": gflops, "shape": f"{n}×{ch}×{hw}² → {ch}, {layout}"}
    return best


def method_step_time(name: str, device: torch.device, dtype: torch.dtype | None, size: int,
                     repeat: int, overrides: tuple[str, ...] = (), flops: bool = False,
                     phases: tuple[str, ...] | None = None) -> dict[str, float]:
    """Seconds per training step of every phase (or of ``phases``), batch 1 at size², full-size networks
    (or, with ``flops``, the GFLOPs of one step counted by ``torch.utils.flop_counter``)."""
    recipe = load_recipe(REPO / "recipes" / METHODS[name],
                         [*(FEATURE if name in ("selfie_gan", "cartoongan") else []), f"data.size={size}",
                          *overrides])
    method = assemble(recipe)
    cls = type(method)
    method.to(device).train()
    x = lambda: torch.rand(1, 3, size, size, device=device) * 2 - 1  # noqa: E731
    batch = {"photo": x(), "cartoon": x(), "mask": torch.rand(1, 1, size, size, device=device).round()}
    batch["smooth"] = method.aug["edge_smooth"].to(device)(batch["cartoon"]) if "edge_smooth" in method.aug else x()
    out = {}
    for phase in cls.phases:
        if phases is not None and phase.name not in phases:
            continue
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
            out[phase.name] = median_seconds(step, device, 1 if device.type == "cpu" else 3, repeat)
    return out


def nst_step_time(device: torch.device, dtype: torch.dtype | None, size: int, repeat: int) -> float:
    """Seconds per optimisation step of neural style transfer (one Adam step on a size² photo's pixels
    against VGG16 features; it has no training, each image costs ``method.steps`` of these)."""
    recipe = load_recipe(REPO / "recipes" / "nst.yaml", ["nets.feature.weights=random"])
    method = assemble(recipe)
    method.to(device)
    content = torch.rand(1, 3, size, size, device=device) * 2 - 1
    style = torch.rand(1, 3, size, size, device=device) * 2 - 1
    steps = 3

    def run() -> None:
        with autocast(device, dtype):
            method.stylize(content, style, steps=steps)

    return median_seconds(run, device, 1, repeat) / steps


def masker_overhead(device: torch.device, size: int, repeat: int, steps: dict[str, Any]) -> dict[str, float]:
    """Selfie-GAN's adversarial step against CartoonGAN's, before and after reusing each cartoon's mask
    for its edge-smoothed twin (time is noisy on a shared machine; FLOPs are exact). ``steps`` are the
    fp32 step times already measured: the default (after) and CartoonGAN are taken from there."""
    adversarial = ("adversarial",)
    out = {"cartoongan_s": steps["cartoongan"]["adversarial"], "selfie_after_s": steps["selfie_gan"]["adversarial"],
           "selfie_before_s": method_step_time("selfie_gan", device, None, size, repeat,
                                               ("method.reuse_cartoon_mask=false",), phases=adversarial)["adversarial"]}
    for label, name, extra in (("cartoongan", "cartoongan", ()),
                               ("selfie_before", "selfie_gan", ("method.reuse_cartoon_mask=false",)),
                               ("selfie_after", "selfie_gan", ())):
        out[f"{label}_gflop"] = method_step_time(name, device, None, size, 1, extra, flops=True,
                                                 phases=adversarial)["adversarial"]
    return out


def torch_instance_norm(net: torch.nn.Module) -> torch.nn.Module:
    """``net`` with toonkit's group-norm-backed instance norms swapped back to ``torch.nn.InstanceNorm2d``
    (what every generator used before), to measure that change."""
    from toonkit.nets.layers import InstanceNorm2d

    for name, child in net.named_children():
        if isinstance(child, InstanceNorm2d):
            setattr(net, name, torch.nn.InstanceNorm2d(child.num_features, child.eps, child.momentum,
                                                       child.affine, child.track_running_stats))
        else:
            torch_instance_norm(child)
    return net


def generator_throughput(device: torch.device, dtype: torch.dtype | None, size: int, batch: int,
                         channels_last: bool = False, torch_norm: bool = False,
                         repeat: int = 5, autocast_only: bool = False) -> float:
    """Images/s of the default CartoonGAN generator, run as ``toonkit translate`` runs it: under
    autocast, except CPU bf16, where the weights are cast to bf16 once and autocast is off
    (``autocast_only`` measures that case under plain autocast instead)."""
    torch.manual_seed(0)
    g = toonkit.build("generator", "cartoongan").to(device).eval()
    if torch_norm:
        g = torch_instance_norm(g)
    x = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    if channels_last:
        g, x = g.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    cast = device.type == "cpu" and dtype == torch.bfloat16 and not autocast_only
    if cast:
        g, x = g.to(dtype), x.to(dtype)

    @torch.inference_mode()
    def run() -> None:
        with autocast(device, None if cast else dtype):
            g(x)

    cpu = device.type == "cpu"
    t = median_seconds(run, device, 1 if cpu and batch > 1 else 2, (3 if batch > 1 else repeat) if cpu else 30)
    return batch / t


def generator_breakdown(size: int, channels_last: bool, gflop: float) -> dict[str, float]:
    """Where a batch-1 fp32 CPU forward pass of the generator spends its time (shares of the operators'
    self time, from ``torch.profiler``), and the GFLOP/s of its convolutions alone (``gflop`` per image)."""
    from torch.profiler import ProfilerActivity, profile

    g = toonkit.build("generator", "cartoongan").eval()
    x = torch.rand(1, 3, size, size) * 2 - 1
    if channels_last:
        g, x = g.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        g(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                g(x)
    parts = {"convolution": 0.0, "normalisation": 0.0, "padding": 0.0, "other": 0.0}
    for event in prof.key_averages():
        name = event.key
        part = ("convolution" if "convolution" in name else "normalisation" if "norm" in name
                else "padding" if "pad" in name else "other")
        parts[part] += event.self_cpu_time_total / 1e6
    total = sum(parts.values())
    out = {f"{k}_share": v / total for k, v in parts.items()}
    out["conv_only_gflops"] = 3 * gflop / parts["convolution"]
    return out


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
        load_cached = median_seconds(lambda: (photos[0], cached[0]), torch.device("cpu"), 2, 10)
        load_uncached = median_seconds(lambda: (photos[0], uncached[0]), torch.device("cpu"), 2, 10)
    smoother = EdgeSmooth().to(device)
    cartoon = torch.rand(1, 3, size, size, device=device) * 2 - 1
    edge = median_seconds(lambda: smoother(cartoon), device, 2, 10)
    return {"load_s": load_cached, "load_uncached_s": load_uncached, "edge_smooth_s": edge,
            "load_share": load_cached / step_seconds, "edge_share_on_device": edge / step_seconds}


def describe(device: torch.device) -> str:
    """The section heading's device: the GPU's name, or the CPU with its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_name()}, {torch.get_num_threads()} threads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "perf.md"))
    parser.add_argument("--json", default=None, help="also write the raw numbers here")
    parser.add_argument("--train", action="store_true",
                        help="write only the training-step section (benchmarks/perf_train.py; CPU)")
    parser.add_argument("--methods", default="pix2pix,cyclegan,cartoongan,selfie_gan",
                        help="with --train: the GAN methods to time")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.train:
        train_section(args)
        return
    dtypes = {"fp32": None, "bf16": torch.bfloat16}
    res: dict[str, Any] = {"device": describe(device), "torch": torch.__version__, "size": args.size}
    res["conv_peak"] = {k: conv_peak(device, d) for k, d in dtypes.items()}
    res["steps"] = {k: {m: method_step_time(m, device, d, args.size, args.repeat) for m in METHODS}
                    for k, d in dtypes.items()}
    for k, d in dtypes.items():
        res["steps"][k]["nst"] = {"optimisation": nst_step_time(device, d, args.size, args.repeat)}
    gflop = count_flops(toonkit.build("generator", "cartoongan"), (1, 3, args.size, args.size)) / 1e9
    repeat = max(5, args.repeat)
    cpu = device.type == "cpu"
    res["generator"], res["norm_before"], res["bf16_autocast_before"] = {}, {}, {}
    for k, d in dtypes.items():
        for b in (1, 8):
            for layout, cl in (("contig", False), ("cl", True)):
                ips = generator_throughput(device, d, args.size, b, cl, repeat=repeat)
                res["generator"][f"{k}_b{b}_{layout}"] = {
                    "img_per_s": ips, "gflop_per_img": gflop, "gflops": ips * gflop,
                    "of_peak": ips * gflop / res["conv_peak"][k]["gflops"]}
                # each "before" is timed right beside its "after", so both see the same machine load
                if cpu and d is None:  # the group-norm-backed instance norm is used on the CPU only
                    res["norm_before"][f"b{b}_{layout}"] = generator_throughput(device, d, args.size, b, cl,
                                                                                torch_norm=True, repeat=repeat)
                if cpu and d == torch.bfloat16 and cl:
                    res["bf16_autocast_before"][f"b{b}"] = generator_throughput(
                        device, d, args.size, b, cl, repeat=repeat, autocast_only=True)
    if cpu:
        res["breakdown"] = generator_breakdown(args.size, channels_last=True, gflop=gflop)
    adv = res["steps"]["fp32"]["selfie_gan"]["adversarial"]
    res["shares"] = data_and_edge_share(device, args.size, adv)
    res["selfie_vs_cartoongan_adv"] = adv / res["steps"]["fp32"]["cartoongan"]["adversarial"]
    res["masker_overhead"] = masker_overhead(device, args.size, args.repeat, res["steps"]["fp32"])
    res["commit"] = git_commit(REPO)
    res["command"] = "python " + " ".join(sys.argv)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    write_section(Path(args.out), render(res))
    print(render(res))


def train_section(args: argparse.Namespace) -> None:
    """The training-step section: every method's step against plain PyTorch loops, fp32 and bf16."""
    import perf_train

    res: dict[str, Any] = {"device": describe(torch.device("cpu")), "torch": torch.__version__,
                           "size": args.size, "rounds": args.repeat}
    res["conv_peak"] = {k: conv_peak(torch.device("cpu"), d) for k, d in perf_train.DTYPES.items()}
    res.update(perf_train.measure(args.size, args.repeat, tuple(args.methods.split(","))))
    res["commit"] = git_commit(REPO)
    res["command"] = "python " + " ".join(sys.argv)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    write_section(Path(args.out), perf_train.render(res))
    print(perf_train.render(res))


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` in place of the section whose ``## `` heading starts with this one's
    (the device), or append it: the record's summary and other devices' sections are kept."""
    heading = section.splitlines()[0]
    text = path.read_text() if path.exists() else "# Performance record\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = [*section.rstrip().splitlines(), ""]
        text = "\n".join(lines).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    path.write_text(text)


def render(r: dict[str, Any]) -> str:
    peak = r["conv_peak"]
    lines = [f"## {r['device']}", "", f"torch {r['torch']}, commit `{r['commit']}`, command `{r['command']}`,",
             f"images {r['size']}², batch 1 for training steps; every time is the median of the repeats.", "",
             "| | fp32 | bf16 |", "|---|---|---|",
             f"| conv peak (GFLOP/s, best of the 3×3 sweep) | {peak['fp32']['gflops']:.1f} | "
             f"{peak['bf16']['gflops']:.1f} |",
             f"| … reached by | {peak['fp32']['shape']} | {peak['bf16']['shape']} |"]
    for m in r["steps"]["fp32"]:
        for phase, t in r["steps"]["fp32"][m].items():
            lines.append(f"| {m} `{phase}` step (s) | {t:.3f} | {r['steps']['bf16'][m][phase]:.3f} |")
    for b in (1, 8):
        for layout, label in (("contig", "contiguous"), ("cl", "channels-last")):
            f, h = r["generator"][f"fp32_b{b}_{layout}"], r["generator"][f"bf16_b{b}_{layout}"]
            lines.append(f"| generator inference, batch {b}, {label} (img/s) | {f['img_per_s']:.2f} | "
                         f"{h['img_per_s']:.2f} |")
            lines.append(f"| … achieved GFLOP/s (share of conv peak) | {f['gflops']:.1f} ({f['of_peak']:.0%}) | "
                         f"{h['gflops']:.1f} ({h['of_peak']:.0%}) |")
    s = r["shares"]
    lines += ["", f"Generator: {r['generator']['fp32_b1_contig']['gflop_per_img']:.1f} GFLOP per {r['size']}² image.",
              f"Data loading (decode + resize + crop of a photo, mask, cartoon and its cached smoothed twin): "
              f"{s['load_s'] * 1e3:.1f} ms = {s['load_share']:.1%} of a fp32 Selfie-GAN adversarial step "
              f"(without the cache: {s['load_uncached_s'] * 1e3:.1f} ms).",
              f"Edge smoothing one cartoon on the device: {s['edge_smooth_s'] * 1e3:.2f} ms = "
              f"{s['edge_share_on_device']:.1%} of that step (0 % of the step with the cache, the default).",
              f"Selfie-GAN adversarial step / CartoonGAN adversarial step (fp32): "
              f"{r['selfie_vs_cartoongan_adv']:.2f}×.", ""]
    if "breakdown" in r:
        k = r["breakdown"]
        lines += [f"Where a batch-1 fp32 channels-last generator pass spends its time (operators' self time, "
                  f"`torch.profiler`): convolutions {k['convolution_share']:.0%} (at "
                  f"{k['conv_only_gflops']:.0f} GFLOP/s), instance norm {k['normalisation_share']:.0%}, "
                  f"reflection padding {k['padding_share']:.0%}, everything else {k['other_share']:.0%}.", ""]
    if r.get("norm_before"):
        n = r["norm_before"]
        lines += ["Instance norm as `torch.nn.InstanceNorm2d` (before) and as toonkit's group-norm-backed "
                  "`InstanceNorm2d` (after), generator inference in fp32 (img/s):", "",
                  "| | before | after | speed-up |", "|---|---|---|---|"]
        for b in (1, 8):
            for layout, label in (("contig", "contiguous"), ("cl", "channels-last")):
                before, after = n[f"b{b}_{layout}"], r["generator"][f"fp32_b{b}_{layout}"]["img_per_s"]
                lines.append(f"| batch {b}, {label} | {before:.2f} | {after:.2f} | {after / before:.2f}× |")
        lines.append("")
    if r.get("bf16_autocast_before"):
        c = r["bf16_autocast_before"]
        lines += ["CPU bf16 generator inference, channels-last (img/s): autocast over fp32 weights (before) and "
                  "weights cast to bf16 once, autocast off (after; what `toonkit translate --amp bf16` does "
                  "on the CPU, and the bf16 rows above):", "",
                  "| | before | after | speed-up |", "|---|---|---|---|"]
        for b in (1, 8):
            before, after = c[f"b{b}"], r["generator"][f"bf16_b{b}_cl"]["img_per_s"]
            lines.append(f"| batch {b} | {before:.2f} | {after:.2f} | {after / before:.2f}× |")
        lines.append("")
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
