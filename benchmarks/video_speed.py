"""Video speed on a CPU: frames per second at 480p and 720p, and the generator's share of the conv peak.

For each frame size (854×480, 1280×720) it times what ``toonkit translate MODEL clip.mp4`` does per
frame (:func:`toonkit.translate.video.translate_frame`: in batches of ``FRAME_BATCH`` frames, resize to the working
size, run the masker (at ``MASK_SCALE`` of the working size, as for every clip frame) for the person's colour statistics (``--colors keep``, the default), generate, resize back; ``--faces off``,
``--background keep``), with the model loaded as ``translate`` loads it, in fp32 and, where the CPU has bf16 units, bf16 (weights
cast once, channels-last: ``--amp bf16``); then the generator alone at that working size, its GFLOP/s
against this machine's measured conv peak (``benchmarks/perf.py: conv_peak``, same dtype), and the same
generator exported to ONNX and run by ONNX Runtime (fp32; onnxruntime has no bf16 CPU kernels), the
masker alone, and the whole command on a generated clip (decode, frames, libx264 encode).

Every number is measured when the script runs. It takes a model name, folder or run, so it reruns on a
retrained ``handpainted`` unchanged. Frames/s are wall-clock medians; the CPU seconds per frame of this
process are given beside them, since a shared machine slows wall time.

Usage:
    python benchmarks/video_speed.py [--model handpainted] [--threads 2] [--out benchmarks/video_speed.md]
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import toonkit
from perf import conv_peak  # benchmarks/perf.py: the conv-peak sweep, reused as is
from toonkit.bench.report import cpu_name, git_commit
from toonkit.metrics.perf import count_flops
from toonkit.protocols import size_multiple
from toonkit.translate.options import TranslateOptions
from toonkit.translate.video import FRAME_BATCH, MASK_SCALE, TemporalState, translate_frame

SIZES = {"480p": (480, 854), "720p": (720, 1280)}


def bf16_units() -> bool:
    return bool(getattr(torch.backends.mkldnn, "is_available", lambda: False)()
                and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def timed(fn, repeat: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process) of ``fn()`` after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]


def onnx_seconds(toon, hw: tuple[int, int], repeat: int, threads: int) -> float | None:
    try:
        import onnxruntime as ort

        from toonkit.translate.export import build_module, export_onnx
    except ImportError:
        return None
    module = build_module(toon, size=hw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.onnx"
        export_onnx(module, path, hw)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        x = (torch.rand(1, 3, *hw) * 2 - 1).numpy()
        return timed(lambda: sess.run(None, {name: x}), repeat)[0]


def peaks_from_perf_md(amps: list[str]) -> dict[str, float]:
    """The conv peaks of this CPU's section of benchmarks/perf.md (``| conv peak ... | fp32 | bf16 |``)."""
    import re

    text = Path(__file__).with_name("perf.md").read_text(encoding="utf-8")
    section = text.split(f"## {cpu_name()}, ")[1] if f"## {cpu_name()}, " in text else ""
    match = re.search(r"\| conv peak[^|]*\| ([\d.]+) \| ([\d.]+) \|", section)
    if not match:
        raise SystemExit(f"benchmarks/perf.md has no conv peak for {cpu_name()}: use --peak measure")
    return {"off": float(match.group(1)), "bf16": float(match.group(2))}


class OtherLoad:
    """CPU time that processes other than this one used from construction to :meth:`stop` (Linux
    ``/proc/stat`` minus this process's own user and system time), to say whether timings were idle."""

    def __init__(self) -> None:
        self.start = (self._busy(), self._own(), time.perf_counter())

    @staticmethod
    def _busy() -> float:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return math.nan
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def stop(self) -> tuple[float, float]:
        """(others' CPU seconds per wall second, wall seconds)."""
        busy, own, wall = self._busy() - self.start[0], self._own() - self.start[1], time.perf_counter() - self.start[2]
        return max(0.0, busy - own) / wall, wall


def clip_seconds(toon: object, h: int, w: int, frames: int, options: TranslateOptions) -> tuple[float, float]:
    """Wall seconds of :func:`~toonkit.translate.video.translate_video` on a generated ``frames``-frame
    mp4 of ``h``×``w`` (a drifting colour pattern), and the share of it spent translating frames."""
    from video_memory import make_clip  # benchmarks/video_memory.py: the same generated clip, without audio

    from toonkit.translate import video

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "clip.mp4", Path(tmp) / "out" / "clip.mp4"
        make_clip(src, frames, 25, w, h, audio=False)
        spent = [0.0]
        inner = video.translate_frame

        def timed_frame(*a: object, **k: object) -> torch.Tensor:
            t = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t

        video.translate_frame = timed_frame
        try:
            start = time.perf_counter()
            video.translate_video(toon, src, dst, **options.as_kwargs())  # faces off: the API default
            total = time.perf_counter() - start
        finally:
            video.translate_frame = inner
    return total, spent[0] / total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="handpainted")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--colors", choices=["style", "keep"], default="keep",
                   help="the translate colors option (keep: toonkit translate's default)")
    p.add_argument("--out", default=str(Path(__file__).with_name("video_speed.md")))
    p.add_argument("--clip-frames", type=int, default=48, help="frames of the generated clip timed end to end")
    p.add_argument("--peak", choices=["measure", "perf.md"], default="measure",
                   help="measure the conv peak now (benchmarks/perf.py's sweep, minutes), or read this CPU's "
                        "section of benchmarks/perf.md (same machine only)")
    args = p.parse_args()
    options = TranslateOptions.of(colors=args.colors)
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    has_bf16 = bf16_units()
    amps = ["off"] + (["bf16"] if has_bf16 else [])
    if args.peak == "perf.md":
        peaks = peaks_from_perf_md(amps)
    else:
        peaks = {amp: conv_peak(device, torch.bfloat16 if amp == "bf16" else None)["gflops"] for amp in amps}
    others = OtherLoad()
    rows = []
    for label, (h, w) in SIZES.items():
        frames = torch.rand(FRAME_BATCH, 3, h, w) * 2 - 1  # translate_video's batch of consecutive frames
        for amp in amps:
            # as `toonkit translate` loads it: with the model's masker, which --colors keep runs on every
            # frame (the person's colour statistics)
            toon = toonkit.load(args.model, device="cpu", amp=amp)
            m = size_multiple(toon.generator)
            wh = tuple(-(-v // m) * m for v in toon.working_size(h, w))  # padded as the generator runs it
            gflop = count_flops(toonkit.load(args.model, device="cpu", masker=False).generator, (1, 3, *wh)) / 1e9
            # a clip's frame: with the temporal state translate_video carries (the masker at MASK_SCALE)
            state = TemporalState()
            batch_s, batch_cpu = timed(lambda toon=toon, frames=frames, state=state: translate_frame(toon, frames, state, options), args.repeat)
            frame_s, frame_cpu = batch_s / FRAME_BATCH, batch_cpu / FRAME_BATCH
            x = toon._prepare(torch.rand(1, 3, *wh) * 2 - 1)
            gen_s, _ = timed(lambda toon=toon, x=x: toon.generate(x), args.repeat)
            small = torch.nn.functional.interpolate(x.float(), scale_factor=MASK_SCALE, mode="bilinear")
            mask_s = timed(lambda toon=toon, x=small: toon.mask(x), args.repeat)[0] if toon.has_masker else None
            rows.append({"size": label, "amp": amp, "work": wh, "fps": 1 / frame_s, "cpu_per_frame": frame_cpu,
                         "gen_fps": 1 / gen_s, "mask_ms": mask_s and 1000 * mask_s, "gflops": gflop / gen_s, "peak": peaks[amp],
                         "share": gflop / gen_s / peaks[amp], "gflop": gflop})
            print(rows[-1], flush=True)
        ort_s = onnx_seconds(toonkit.load(args.model, device="cpu", masker=False), wh, args.repeat, args.threads)
        rows.append({"size": label, "amp": "onnxruntime fp32", "work": wh, "fps": None, "cpu_per_frame": None, "mask_ms": None,
                     "gen_fps": 1 / ort_s if ort_s else None, "gflops": gflop / ort_s if ort_s else None,
                     "peak": peaks["off"], "share": gflop / ort_s / peaks["off"] if ort_s else None, "gflop": gflop})
        print(rows[-1], flush=True)

    clips = {}  # the whole command: decode, translate, encode (libx264), at the best precision
    for label, (h, w) in SIZES.items():
        toon = toonkit.load(args.model, device="cpu", amp=amps[-1])  # with its masker, as translate runs
        clips[label] = clip_seconds(toon, h, w, args.clip_frames, options)
        print(label, clips[label], flush=True)
    others_share, run_seconds = others.stop()

    def f(v, fmt):
        return "—" if v is None else format(v, fmt)

    lines = [
        "# Video speed on a CPU",
        "",
        f"Model `{args.model}`. Device: {cpu_name()}, {args.threads} torch threads, bf16 units: "
        f"{'yes' if has_bf16 else 'no'}; torch {torch.__version__}, Python {platform.python_version()}; commit "
        f"`{git_commit(Path(__file__).resolve().parents[1])}`; command `python benchmarks/video_speed.py --model {args.model} --threads {args.threads} --peak {args.peak} --colors {args.colors}`. "
        f"While it ran ({run_seconds:.0f} s), other processes used {others_share:.2f} of a core on average "
        f"({os.cpu_count()} CPUs): {'an idle machine' if others_share < 0.1 else 'a shared machine, so wall-clock frames/s are lower than on an idle one'}; "
        "CPU seconds per frame are this process's own.",
        "",
        f"Conv peak ({'measured now by benchmarks/perf.py' + chr(39) + 's sweep' if args.peak == 'measure' else 'from this CPU' + chr(39) + 's section of benchmarks/perf.md'}): fp32 {peaks['off']:.0f} GFLOP/s"
        + (f", bf16 {peaks['bf16']:.0f} GFLOP/s" if has_bf16 else "") + ".",
        "",
        "| frame | precision | working size | frames/s (whole frame path) | CPU s/frame | generator alone (frames/s) "
        f"| masker alone at {MASK_SCALE:g} of the working size (ms/frame) | generator GFLOP/s | share of conv peak (same dtype) |",
        "|---|---|---|---|---|---|---|---|---|",
        *[f"| {r['size']} | {r['amp']} | {r['work'][1]}×{r['work'][0]} | {f(r['fps'], '.2f')} | "
          f"{f(r['cpu_per_frame'], '.3f')} | {f(r['gen_fps'], '.2f')} | {f(r['mask_ms'], '.0f')} | {f(r['gflops'], '.0f')} | "
          f"{f(r['share'] and 100 * r['share'], '.0f')} % |" for r in rows],
        "",
        f"The generator costs {rows[0]['gflop']:.1f} GFLOP per frame at {rows[0]['work'][1]}×{rows[0]['work'][0]}.",
        "",
        f"The whole command (`toonkit translate {args.model} clip.mp4 --amp {amps[-1]}`: PyAV decode, the frame "
        f"path above, libx264 encode), on a generated {args.clip_frames}-frame clip, `--faces off`:",
        "",
        "| clip | frames/s | of which translating the frames |",
        "|---|---|---|",
        *[f"| {label} | {args.clip_frames / secs:.2f} | {100 * share:.0f} % |" for label, (secs, share) in clips.items()],
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
