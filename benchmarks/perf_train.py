"""Training-step section of the performance record: every method's step against a plain PyTorch loop.

``benchmarks/perf.py --train`` runs :func:`measure` and writes :func:`render` as its own section of
``benchmarks/perf.md``. Each step is one adversarial step at batch 1, full-size networks, timed in
interleaved rounds (plain, toonkit's default, toonkit's fast settings, then again ...) so that a
neighbour's load on the shared cores hits every variant alike; the record gives medians.

The plain loops are written the way pix2pix's and CycleGAN's reference code trains, with toonkit's own
network classes (so the FLOPs are the same) and plain ``torch.optim.Adam``.
"""
from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from toonkit.augment.outline import outline
from toonkit.core.runtime import autocast
from toonkit.methods.assemble import assemble
from toonkit.methods.context import Group, StepContext
from toonkit.nets.discriminators import PatchGANDiscriminator
from toonkit.nets.generators import ResnetGenerator, UNetGenerator
from toonkit.recipe import load_recipe
from toonkit.recipe.schema import OptimSpec
from toonkit.train.optim import make_optimizer, make_scheduler

Step = Callable[[], None]
CPU = torch.device("cpu")
DTYPES: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16}
#: toonkit's settings per variant: the default (what a recipe gets) and the opt-in fast one
VARIANTS: dict[str, dict[str, Any]] = {"default": {}, "fast": {"impl": "fused"}}


def toonkit_step(name: str, recipe_file: str, dtype: torch.dtype | None, size: int,
                 overrides: tuple[str, ...] = (), impl: str = "auto", channels_last: bool = False) -> Step:
    """One adversarial step of ``name`` as the trainer runs it (its recipe's optimisers, autocast)."""
    from perf import REPO

    recipe = load_recipe(REPO / "recipes" / recipe_file, [f"data.size={size}", *overrides])
    torch.manual_seed(0)
    method = assemble(recipe).train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    method.to(memory_format=fmt)
    x = lambda: (torch.rand(1, 3, size, size) * 2 - 1).contiguous(memory_format=fmt)  # noqa: E731
    batch = {"photo": x(), "cartoon": x(), "smooth": x()}
    phase = type(method).phase("adversarial")
    groups = {}
    for g in phase.trains:
        spec = (recipe.spec.train.optim.get(g) or OptimSpec()).model_copy(update={"impl": impl})
        opt = make_optimizer(method.net[g], spec)
        groups[g] = Group(method.net[g], opt, make_scheduler(opt, spec, 10), torch.amp.GradScaler("cpu", enabled=False))

    def step() -> None:
        with autocast(CPU, dtype):
            method.train_step(batch, StepContext(phase.name, 0, groups))

    return step


def _requires_grad(nets: tuple[torch.nn.Module, ...], flag: bool) -> None:
    for p in itertools.chain(*(n.parameters() for n in nets)):
        p.requires_grad_(flag)


def plain_pix2pix(dtype: torch.dtype | None, size: int) -> Step:
    """pix2pix's reference loop: U-Net 256 and a 6-channel PatchGAN with batch norm, BCE + 100·L1,
    D on fake then real, then G with D's weights out of autograd (``set_requires_grad(netD, False)``)."""
    torch.manual_seed(0)
    G, D = UNetGenerator(depth=8, norm="batch", dropout=True), PatchGANDiscriminator(in_channels=6, norm="batch")
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(1, 3, size, size) * 2 - 1
    bce = F.binary_cross_entropy_with_logits

    def step() -> None:
        with autocast(CPU, dtype):
            source = outline(real)
            fake = G(source)
            opt_d.zero_grad()
            pred_fake = D(torch.cat([source, fake.detach()], 1))
            pred_real = D(torch.cat([source, real], 1))
            loss_d = 0.5 * (bce(pred_fake.float(), torch.zeros_like(pred_fake.float()))
                            + bce(pred_real.float(), torch.ones_like(pred_real.float())))
        loss_d.backward()
        opt_d.step()
        _requires_grad((D,), False)
        opt_g.zero_grad()
        with autocast(CPU, dtype):
            pred = D(torch.cat([source, fake], 1)).float()
            loss_g = bce(pred, torch.ones_like(pred)) + 100 * F.l1_loss(fake.float(), real)
        loss_g.backward()
        opt_g.step()
        _requires_grad((D,), True)

    return step


def plain_cyclegan(dtype: torch.dtype | None, size: int) -> Step:
    """CycleGAN's reference loop: two ResNet-9 generators, two PatchGANs with instance norm, LSGAN,
    cycle (10) and identity (5) L1 terms, one Adam over both generators, one over both Ds. The image
    pool is left out: in its first 50 steps it hands back the new fake, as here."""
    torch.manual_seed(0)
    G_A, G_B = ResnetGenerator(res_blocks=9, norm="instance"), ResnetGenerator(res_blocks=9, norm="instance")
    D_A, D_B = PatchGANDiscriminator(norm="instance"), PatchGANDiscriminator(norm="instance")
    opt_g = torch.optim.Adam(itertools.chain(G_A.parameters(), G_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=2e-4, betas=(0.5, 0.999))
    real_a, real_b = (torch.rand(1, 3, size, size) * 2 - 1 for _ in range(2))

    def mse(pred: torch.Tensor, target: float) -> torch.Tensor:
        return F.mse_loss(pred.float(), torch.full_like(pred.float(), target))

    def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(a.float(), b.float())

    def step() -> None:
        with autocast(CPU, dtype):
            fake_b, fake_a = G_A(real_a), G_B(real_b)
            rec_a, rec_b = G_B(fake_b), G_A(fake_a)
        _requires_grad((D_A, D_B), False)
        opt_g.zero_grad()
        with autocast(CPU, dtype):
            idt_a, idt_b = G_A(real_b), G_B(real_a)
            loss_g = (mse(D_A(fake_b), 1.0) + mse(D_B(fake_a), 1.0) + 10 * (l1(rec_a, real_a) + l1(rec_b, real_b))
                      + 5 * (l1(idt_a, real_b) + l1(idt_b, real_a)))
        loss_g.backward()
        opt_g.step()
        _requires_grad((D_A, D_B), True)
        opt_d.zero_grad()
        for D, real, fake in ((D_A, real_b, fake_b), (D_B, real_a, fake_a)):
            with autocast(CPU, dtype):
                loss_d = 0.5 * (mse(D(real), 1.0) + mse(D(fake.detach()), 0.0))
            loss_d.backward()
        opt_d.step()

    return step


def bf16_units() -> str:
    """Which bf16 matrix/vector instructions this CPU has (they decide what bf16 can gain over fp32)."""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return ", ".join(f for f in ("amx_bf16", "avx512_bf16") if f in flags) or "none"


def gflop(step: Step) -> float:
    """GFLOP of one call of ``step`` (``torch.utils.flop_counter``: convolutions and matmuls, forward
    and backward; element-wise work, norms and the optimiser count as 0)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops() / 1e9


def interleaved(steps: dict[str, Step], rounds: int) -> dict[str, dict[str, Any]]:
    """Median seconds of each step over ``rounds`` rounds, each round calling every step once in turn,
    after one untimed warm-up round. Returns ``{key: {"s": median, "all": [times]}}``."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(rounds):
        for key, step in steps.items():
            start = time.perf_counter()
            step()
            times[key].append(time.perf_counter() - start)
    return {k: {"s": statistics.median(v), "all": v} for k, v in times.items()}


def _under_optimizer(event: Any) -> bool:
    while event is not None:
        if event.name.startswith("Optimizer."):
            return True
        event = event.cpu_parent
    return False


def _profile_one(step: Step, record_shapes: bool = False) -> Any:
    """``torch.profiler``'s record of one call of ``step``, after an unrecorded warm-up call."""
    from torch.profiler import ProfilerActivity, profile

    step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=record_shapes) as prof:
        step()
    return prof


def breakdown(step: Step) -> dict[str, float]:
    """Where one call of ``step`` spends its time: shares of the operators' self time (``torch.profiler``),
    in convolutions (forward, backward), the optimiser (step and zero_grad, everything under them),
    normalisation, padding, dtype casts and copies, and the rest; plus the seconds, and the share of the
    convolutions whose input is 4×4 or smaller (the U-Net's innermost levels)."""
    prof = _profile_one(step, record_shapes=True)
    parts = dict.fromkeys(("conv_fwd", "conv_bwd", "optimizer", "norm", "pad", "cast_copy", "other"), 0.0)
    tiny = 0.0
    for e in prof.events():
        name, t = e.name, e.self_cpu_time_total / 1e6
        if _under_optimizer(e):
            part = "optimizer"
        elif name == "aten::convolution_backward":
            part = "conv_bwd"
        elif "conv" in name:
            part = "conv_fwd"
        elif "norm" in name:
            part = "norm"
        elif "pad" in name:
            part = "pad"
        elif name in ("aten::copy_", "aten::_to_copy", "aten::to", "aten::contiguous", "aten::clone"):
            part = "cast_copy"
        else:
            part = "other"
        parts[part] += t
        if part.startswith("conv"):
            shapes = [s for s in (e.input_shapes or []) if len(s) == 4]
            image = shapes[1] if part == "conv_bwd" and len(shapes) > 1 else (shapes[0] if shapes else None)
            if image is not None and image[-1] <= 4:
                tiny += t
    total = sum(parts.values())
    out = {f"{k}_share": v / total for k, v in parts.items()}
    out["seconds"], out["tiny_conv_share"] = total, tiny / total
    return out


def op_seconds(step: Step) -> dict[str, tuple[int, float]]:
    """Calls and self seconds of every operator in one profiled call of ``step`` (after a warm-up)."""
    return {e.key: (e.count, e.self_cpu_time_total / 1e6) for e in _profile_one(step).key_averages()}


def compare(method: str = "pix2pix", dtype: str = "bf16", size: int = 256, rounds: int = 7,
            top: int = 12) -> str:
    """The plain loop against toonkit's default step of ``method``: interleaved wall-clock times, and
    the operators of one profiled step each side by side (is the gap in the work, or outside it?)."""
    recipe, overrides = METHODS[method]
    steps = {"plain": PLAIN[method](DTYPES[dtype], size),
             "default": toonkit_step(method, recipe, DTYPES[dtype], size, overrides)}
    load = os.getloadavg()[0]
    timed = interleaved(steps, rounds)
    ops = {k: op_seconds(v) for k, v in steps.items()}
    keys = sorted(set(ops["plain"]) | set(ops["default"]),
                  key=lambda k: -max(ops["plain"].get(k, (0, 0.0))[1], ops["default"].get(k, (0, 0.0))[1]))
    lines = [f"{method} {dtype}, {size}², batch 1, {rounds} interleaved rounds after a warm-up, "
             f"{torch.get_num_threads()} threads, 1-minute load {load:.2f} before, {os.getloadavg()[0]:.2f} after.",
             "", "| | plain | default |", "|---|---|---|"]
    lines.append("| wall s/step, median (min–max) | " + " | ".join(
        f"{timed[k]['s']:.3f} ({min(timed[k]['all']):.3f}–{max(timed[k]['all']):.3f})" for k in steps) + " |")
    lines.append("| profiled self time, s | " + " | ".join(
        f"{sum(t for _, t in ops[k].values()):.3f}" for k in steps) + " |")
    lines += ["", "| operator | plain calls | plain s | default calls | default s |", "|---|---|---|---|---|"]
    for k in keys[:top]:
        (pc, ps), (dc, ds) = ops["plain"].get(k, (0, 0.0)), ops["default"].get(k, (0, 0.0))
        lines.append(f"| `{k}` | {pc} | {ps:.3f} | {dc} | {ds:.3f} |")
    return "\n".join(lines)


def unet_inner_levels(size: int) -> dict[str, float]:
    """Share of pix2pix's U-Net weights and forward FLOPs in its levels that work at 4×4 and below
    (levels 6 and 7 at 256²): they hold most of the weights, which every step reads, grads and updates
    (memory-bound), for few FLOPs."""
    from torch.utils.flop_counter import FlopCounterMode

    g = UNetGenerator(depth=8, norm="batch")
    inner = g.model
    for _ in range(6):
        inner = inner.sub
    params = sum(p.numel() for p in g.parameters())
    with FlopCounterMode(display=False) as total, torch.no_grad():
        g(torch.zeros(1, 3, size, size))
    with FlopCounterMode(display=False) as part, torch.no_grad():
        conv = next(m for m in inner.down if isinstance(m, torch.nn.Conv2d))
        inner(torch.zeros(1, conv.in_channels, size // 64, size // 64))
    return {"param_share": sum(p.numel() for p in inner.parameters()) / params, "params_m": params / 1e6,
            "flop_share": part.get_total_flops() / total.get_total_flops()}


def adam_impls(rounds: int = 5) -> dict[str, dict[str, Any]]:
    """Seconds of one Adam step over pix2pix's G and D (57 M weights) per ``OptimSpec.impl``, in
    interleaved rounds, and whether three steps leave bitwise the weights ``auto`` leaves."""
    nets = (UNetGenerator(depth=8, norm="batch"), PatchGANDiscriminator(in_channels=6, norm="batch"))
    start = [p.detach().clone() for n in nets for p in n.parameters()]
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(p.shape, generator=gen) for p in start]
    impls = ("auto", "for_loop", "foreach", "fused")
    holders = {i: torch.nn.ParameterList([p.clone() for p in start]) for i in impls}
    params = {i: list(h) for i, h in holders.items()}
    opts = {i: make_optimizer(h, OptimSpec(impl=i)) for i, h in holders.items()}

    def step(i: str) -> None:
        for p, g in zip(params[i], grads):
            p.grad = g
        opts[i].step()

    times = interleaved({i: (lambda i=i: step(i)) for i in impls}, rounds)
    for i in impls:  # warm-up + rounds steps each: all have taken the same number of steps
        times[i]["bitwise_as_auto"] = all(torch.equal(a, b) for a, b in zip(params[i], params["auto"]))
    return times


#: method → (recipe, overrides timing needs: VGG16 with random weights stands in for VGG19, as in perf.py)
METHODS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pix2pix": ("pix2pix_outline.yaml", ()),
    "cyclegan": ("cyclegan.yaml", ()),
    "cartoongan": ("cartoongan.yaml", ("nets.feature.arch=vgg16", "nets.feature.layer=conv4_3",
                                       "nets.feature.weights=random")),
    "selfie_gan": ("selfie_gan.yaml", ("nets.feature.arch=vgg16", "nets.feature.layer=conv4_3",
                                       "nets.feature.weights=random")),
}
PLAIN: dict[str, Callable[[torch.dtype | None, int], Step]] = {"pix2pix": plain_pix2pix, "cyclegan": plain_cyclegan}


def measure(size: int = 256, rounds: int = 3, methods: tuple[str, ...] = tuple(METHODS),
            nst: bool = True) -> dict[str, Any]:
    """Every method's adversarial step: plain loop (where written), toonkit default and fast, fp32 and
    bf16, timed in interleaved rounds per method; GFLOP per step; a profile of toonkit's default step."""
    res: dict[str, Any] = {"load_before": os.getloadavg(), "steps": {}, "gflop": {}, "profile": {},
                           "bf16_units": bf16_units()}
    for m in methods:
        recipe, overrides = METHODS[m]
        steps: dict[str, Step] = {}
        for dt, dtype in DTYPES.items():
            if m in PLAIN:
                steps[f"plain/{dt}"] = PLAIN[m](dtype, size)
            for variant, settings in VARIANTS.items():
                steps[f"{variant}/{dt}"] = toonkit_step(m, recipe, dtype, size, overrides, **settings)
        # the fast variant and bf16 run the same convolutions: count the plain and default fp32 steps
        res["gflop"][m] = {k: gflop(steps[k]) for k in ("plain/fp32", "default/fp32") if k in steps}
        res["steps"][m] = interleaved(steps, rounds)
        res["profile"][m] = {dt: breakdown(steps[f"default/{dt}"]) for dt in DTYPES}
        del steps
        print(f"{m}: {res['steps'][m]} load {os.getloadavg()}", flush=True)  # a long run shows progress
    if "pix2pix" in methods:
        res["unet_inner"] = unet_inner_levels(size)
    res["adam"] = adam_impls()
    if nst:  # no training step and nothing changed here: its per-image optimisation step, for the table
        from perf import nst_step_time

        res["nst"] = {dt: nst_step_time(CPU, dtype, size, rounds) for dt, dtype in DTYPES.items()}
    res["load_after"] = os.getloadavg()
    return res


def _pct(x: float) -> str:
    return f"{x:.0%}"


def render(r: dict[str, Any]) -> str:
    """The training-step section (Markdown) for the record."""
    peak = {k: r["conv_peak"][k]["gflops"] for k in DTYPES}
    lines = [f"## Training step: {r['device']}", "",
             f"bf16 instructions: {r['bf16_units']}. "
             f"torch {r['torch']}, commit `{r['commit']}`, command `{r['command']}`; 1-minute load "
             f"{r['load_before'][0]:.2f} before, {r['load_after'][0]:.2f} after. One adversarial step, batch 1, "
             f"{r['size']}², full-size networks; median of {r['rounds']} interleaved rounds after a warm-up "
             "(plain, default and fast in turn, fp32 then bf16, per method). `default` is what a recipe gets, "
             "bitwise the weights of before this section existed (same code path), so it is also the "
             "\"before\" column; `fast` adds the opt-in `train.optim.<net>.impl: fused` (not bitwise: Adam "
             "rounds differently). `plain` is the reference loop in `benchmarks/perf_train.py` (same "
             "network classes, plain `torch.optim.Adam`). GFLOP counted by `torch.utils.flop_counter`; "
             f"conv peak (the sweep of `perf.py`): {peak['fp32']:.0f} GFLOP/s fp32, {peak['bf16']:.0f} "
             "GFLOP/s bf16.", ""]
    for dt in DTYPES:
        lines += [f"| {dt} | GFLOP/step | plain (s) | default = before (s) | fast (s) | default GFLOP/s "
                  "(of peak) | fast GFLOP/s (of peak) |", "|---|---|---|---|---|---|---|"]
        for m, steps in r["steps"].items():
            g = r["gflop"][m]["default/fp32"]
            plain = f"{steps[f'plain/{dt}']['s']:.3f}" if f"plain/{dt}" in steps else "–"
            d, f = steps[f"default/{dt}"]["s"], steps[f"fast/{dt}"]["s"]
            lines.append(f"| {m} | {g:.1f} | {plain} | {d:.3f} | {f:.3f} | {g / d:.0f} ({_pct(g / d / peak[dt])}) | "
                         f"{g / f:.0f} ({_pct(g / f / peak[dt])}) |")
        if "nst" in r:
            lines.append(f"| nst (one optimisation step of the image) | – | – | {r['nst'][dt]:.3f} | – | – | – |")
        lines.append("")
    lines += ["Targets (ratios within this run):", "", "| target | measured | met? |", "|---|---|---|"]
    s = r["steps"]
    for m in s:
        best = min(s[m]["default/bf16"]["s"], s[m]["fast/bf16"]["s"])
        share = r["gflop"][m]["default/fp32"] / best / peak["bf16"]
        lines.append(f"| {m} bf16 step ≥ 50 % of the bf16 conv peak | {_pct(share)} | "
                     f"{'yes' if share >= 0.5 else '**no**'} |")
    if "pix2pix" in s:
        p = s["pix2pix"]
        plain = p["plain/fp32"]["s"]
        for v in VARIANTS:
            ratio = p[f"{v}/fp32"]["s"] / plain
            lines.append(f"| pix2pix fp32 ({v}) ≤ plain fp32 | {ratio:.2f}× | {'yes' if ratio <= 1 else '**no**'} |")
        for v in VARIANTS:
            ratio = p[f"{v}/bf16"]["s"] / plain
            lines.append(f"| pix2pix bf16 ({v}) ≤ 0.5 × plain fp32 | {ratio:.2f}× | "
                         f"{'yes' if ratio <= 0.5 else '**no**'} |")
    if "cyclegan" in s:
        c = s["cyclegan"]
        for v in VARIANTS:
            ratio = c[f"{v}/bf16"]["s"] / c["plain/fp32"]["s"]
            lines.append(f"| CycleGAN bf16 ({v}) ≤ 0.25 × plain fp32 | {ratio:.2f}× | "
                         f"{'yes' if ratio <= 0.25 else '**no**'} |")
    lines += ["", "Where toonkit's default step spends its time (shares of the operators' self time, one "
              "profiled step, `torch.profiler`; the optimiser is everything under `Optimizer.step`/`zero_grad`):", "",
              "| method | dtype | profiled s | conv fwd | conv bwd | optimiser | norm | padding | casts/copies | "
              "other | convs on ≤4² inputs |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m, by_dt in r["profile"].items():
        for dt, b in by_dt.items():
            lines.append(f"| {m} | {dt} | {b['seconds']:.2f} | " + " | ".join(
                _pct(b[f"{k}_share"]) for k in ("conv_fwd", "conv_bwd", "optimizer", "norm", "pad", "cast_copy",
                                                 "other", "tiny_conv")) + " |")
    if "adam" in r:
        a = r["adam"]
        lines += ["", "One Adam step over pix2pix's G and D (57 M weights), by `train.optim.<net>.impl` (median of "
                  "interleaved rounds; bitwise: the weights equal `auto`'s after the same steps):", "",
                  "| impl | s/step | bitwise as auto |", "|---|---|---|"]
        lines += [f"| {i} | {v['s']:.3f} | {'yes' if v['bitwise_as_auto'] else 'no'} |" for i, v in a.items()]
    if "unet_inner" in r:
        u = r["unet_inner"]
        lines += ["", f"pix2pix's U-Net: its two innermost levels (4×4 inputs and below) hold {_pct(u['param_share'])} "
                  f"of its {u['params_m']:.1f} M weights for {u['flop_share']:.1%} of its forward FLOPs. Every step "
                  "reads those weights, writes their gradients and runs Adam over them: memory traffic, not "
                  "arithmetic."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python benchmarks/perf_train.py [method] [fp32|bf16]: plain against default
    import sys

    torch.set_num_threads(int(os.environ.get("TOONKIT_PERF_THREADS", "2")))
    print(compare(*(sys.argv[1:3] or ["pix2pix", "bf16"])))
