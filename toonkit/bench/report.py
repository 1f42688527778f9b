"""Writing a benchmark's results: ``results.csv``, ``report.md``, ``grid.png`` and ``plots/``."""
from __future__ import annotations

import csv
import datetime as _dt
import inspect
import io
import logging
import math
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import torch

from toonkit.bench import plots
from toonkit.bench.claims import claim_lines
from toonkit.bench.data import spread_indices
from toonkit.bench.columns import Scores, best_of, better_words, fmt, markdown_table, merged_order, rankable, score_columns  # noqa: F401 (fmt, rankable: re-exported)
from toonkit.bench.measure import TRAIN_STEP_PREFIX, losses_csv
from toonkit.bench.methods import BUDGET_KEYS
from toonkit.bench.zero_point import skin_group_lines, zero_point_lines
from toonkit.io_utils import atomic_write_text

if TYPE_CHECKING:
    from toonkit.bench.result import BenchResult

log = logging.getLogger("toonkit.bench")


def _speed_info(col: str) -> tuple[str, bool, int]:
    """:func:`speed_column` of a column known to be a size/speed one."""
    info = speed_column(col)
    if info is None:
        raise KeyError(f"{col} is not a size/speed column")
    return info


def speed_column(col: str) -> Optional[tuple[str, bool, int]]:
    """(label, higher is better, sort key) of a size/speed column, or None for other columns."""
    if col == "params_M":
        return "parameters (M)", False, 0
    if col == "gflops":
        return "GFLOPs / image", False, 1
    match = re.fullmatch(r"img_per_s_b(\d+)", col)
    if match:
        return f"images/s, batch {match.group(1)}", True, 10 + int(match.group(1))
    if col == PEAK:
        return "peak memory (MiB)", False, 1000
    if col == "eval_img_per_s":
        return "images/s during evaluation", True, 2000
    return None


PEAK = "peak_mem_mb"


def peak_memory(row: dict[str, float]) -> tuple[float, Optional[int]]:
    """The peak memory a method's row holds (``peak_mem_mb_b<B>``, measured at its largest timed batch B)."""
    for col, value in row.items():
        match = re.fullmatch(r"peak_mem_mb_b(\d+)", col)
        if match:
            return value, int(match.group(1))
    return math.nan, None


def speed_value(row: dict[str, float], col: str) -> float:
    return peak_memory(row)[0] if col == PEAK else row.get(col, math.nan)


def speed_columns(result: BenchResult) -> list[str]:
    cols = {c for r in result.results for c in r.row if speed_column(c) is not None}
    if any(peak_memory(r.row)[1] is not None for r in result.results):
        cols.add(PEAK)
    return sorted(cols, key=lambda c: _speed_info(c)[2])


# -- environment ------------------------------------------------------------------------------------
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_device(device: torch.device) -> str:
    """The machine in words: the GPU's name when one is used, and the CPU with its core count."""
    cpu = f"{cpu_name()}, {os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads"
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}); CPU: {cpu}"
    if device.type == "mps":
        return f"Apple GPU (MPS); CPU: {cpu}"
    return f"CPU only: {cpu}"


def git_commit(repo: Path) -> str:
    """``git rev-parse --short HEAD`` of ``repo``, marked when tracked files have uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=20, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes" if dirty else "")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _cell(value: float, best: Optional[float], std: Optional[float] = None) -> str:
    """``value`` (± ``std``; 'n/a' for a spread that could not be measured), bold when it is ``best``;
    a missing value is never bold."""
    text = fmt(value)
    if std is not None:
        text += f" ± {fmt(std)}" if math.isfinite(std) else " (spread n/a)"
    finite = isinstance(value, (int, float)) and math.isfinite(value)
    return f"**{text}**" if finite and best is not None and value == best else text


def metric_description(metric: object) -> str:
    """The metric's docstring paragraph after its summary line, on one line, as Markdown."""
    doc = inspect.getdoc(type(metric)) or ""
    paragraphs = [p for p in doc.split("\n\n") if p.strip()]
    if len(paragraphs) > 1 and not paragraphs[1].lstrip().startswith(("Args:", "Example:")):
        text = " ".join(paragraphs[1].split())
    else:
        text = " ".join(paragraphs[0].split()) if paragraphs else ""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)  # Sphinx roles -> code
    return text.replace("``", "`")


# -- the report -------------------------------------------------------------------------------------
def write_csv(result: BenchResult, path: Path, scores: Optional[Scores] = None) -> list[str]:
    """One row per method: ``method``, ``method_type``, then every column any method has."""
    if scores is None:
        scores = score_columns(result)
    columns: list[str] = []
    for _, col, _ in scores:
        columns += [col] + ([f"{col}_std"] if any(f"{col}_std" in r.row for r in result.results) else [])
    for r in result.results:
        columns += [c for c in r.row if c not in columns]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["method", "method_type", *columns])
    for r in result.results:
        writer.writerow([r.plan.name, r.plan.method_type, *[_csv_value(r.row.get(c)) for c in columns]])
    atomic_write_text(path, text.getvalue())
    return columns


def _csv_value(value: Optional[float]) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.6g}"


def _budget_text(result: BenchResult) -> str:
    b = result.suite.spec.budget
    steps = ", ".join(f"{k} {v}" for k, v in b.steps.items())
    own = []  # methods that change part of the budget with their own overrides
    for r in result.results:
        spec = result.suite.spec.methods.get(r.plan.name)
        changed = [o for o in (spec.overrides if spec is not None else []) if o.startswith(BUDGET_KEYS)]
        if changed and r.plan.kind == "train":
            own.append(f"{r.plan.name} ({', '.join(changed)})")
    same = ("same for every trained method" if not own else
            "the same for every trained method except these, which override part of it: " + "; ".join(own))
    return (f"{b.size}² crops (short side resized to {b.load_size or b.size}), batch {b.batch_size}, steps per "
            f"phase: {steps}; amp {b.amp}, seed {b.seed}, {same}")


def write_report(result: BenchResult) -> Path:
    """Write ``results.csv``, ``grid.png``, ``plots/*.png`` and ``report.md`` into ``result.out``."""
    out = result.out
    out.mkdir(parents=True, exist_ok=True)
    scores = score_columns(result)
    write_csv(result, out / "results.csv", scores)
    rows = spread_indices(len(result.stems), result.suite.spec.eval.grid_rows)
    plots.save_grid(out / "grid.png", result.photos, [(r.plan.name, r.outputs) for r in result.results], rows,
                    row_labels=result.stems)
    plot_paths = _plots(result, out / "plots", scores)
    text = _markdown(result, plot_paths, scores, len(rows))
    atomic_write_text(out / "report.md", text)
    log.info("report written to %s", out / "report.md")
    return out / "report.md"


def _plots(result: BenchResult, folder: Path, scores: Scores) -> list[Path]:
    names = [r.plan.name for r in result.results]
    made: list[Path] = []
    for old in folder.glob("*.png") if folder.is_dir() else []:
        old.unlink()  # plots of an earlier run that this one may not redraw
    for _, col, hib in scores:
        values = [r.row.get(col, math.nan) for r in result.results]
        std = [r.row.get(f"{col}_std", math.nan) for r in result.results]
        errors = std if any(math.isfinite(s) for s in std) else None
        made.append(plots.bar_chart(folder / f"metric_{plots.safe_name(col)}.png", col, names, values, hib,
                                    errors=errors))
    for col in speed_columns(result):
        label, hib, _ = _speed_info(col)
        values = [speed_value(r.row, col) for r in result.results]
        if any(math.isfinite(v) for v in values):
            made.append(plots.bar_chart(folder / f"speed_{plots.safe_name(col)}.png", label, names, values, hib))
    runs = [(r.plan.name, losses_csv(r.plan.run_dir)) for r in result.results if r.plan.kind != "optimise"]
    curves = plots.loss_curves(folder / "training_losses.png", [(n, p) for n, p in runs if p is not None])
    if curves:
        made.append(curves)
    x_col, x_label, title = _tradeoff_axis(result)
    quality = [(col, [r.row.get(col, math.nan) for r in result.results], hib) for _, col, hib in scores]
    sq = plots.speed_vs_quality(folder / "speed_vs_quality.png", names,
                                [r.row.get(x_col, math.nan) for r in result.results], x_label, quality, title=title)
    if sq:
        made.append(sq)
    return made


def _tradeoff_axis(result: BenchResult) -> tuple[str, str, str]:
    """What the quality scores are plotted against: (column, axis label, plot title).

    Batch-1 throughput when every method has it (the suite measured speed); otherwise, when every method
    was trained, the training minutes (what a settings sweep trades quality for); otherwise the throughput
    seen during evaluation.
    """
    def everyone(col: str) -> bool:
        return all(math.isfinite(r.row.get(col, math.nan)) for r in result.results)

    col = next((c for c in ("img_per_s_b1", "train_min") if everyone(c)), "eval_img_per_s")
    if col == "train_min":
        return col, "training minutes (seconds/step × steps)", "quality against training time"
    return col, _speed_info(col)[0], "speed against quality"


def _settings(result: BenchResult, name: str) -> str:
    block = next((b for b in result.suite.metrics if b["type"] == name), None) or {}
    return ", ".join(f"{k}={v}" for k, v in block.items() if k not in ("type", "batch_size"))


def _relative(text: str, result: BenchResult) -> str:
    """Paths inside ``text`` shown relative to the report (or the suite), never as machine paths."""
    suite_dir = result.suite.path.parent
    for base, prefix in ((result.out.resolve(), ""), (result.out, ""), (suite_dir.resolve(), ""), (suite_dir, ""),
                         (suite_dir.resolve().parent, ".." + os.sep)):  # e.g. a model folder beside the suites
        text = text.replace(str(base) + os.sep, prefix)
    return text


_table = markdown_table


def _markdown(result: BenchResult, plot_paths: list[Path], scores: Scores, grid_rows: int) -> str:
    import toonkit

    s = result.suite.spec
    ev = s.eval
    res = result.results
    counts = result.data.counts
    repo = Path(toonkit.__file__).resolve().parents[1]
    lines = [f"# Benchmark `{s.name}`", ""]
    if s.description:
        lines += [" ".join(s.description.split()), ""]
    trained_now = ", ".join(result.trained) if result.trained else "none (all runs were already complete)"
    train_mins = [v for r in res if math.isfinite(v := r.row.get("train_min", math.nan))]
    eval_mins = [v for r in res if math.isfinite(v := r.row.get("eval_min", math.nan))]
    timing = [f"training ≈ {sum(train_mins):.0f} min (sum over methods of seconds/step × steps)"] if train_mins else []
    if eval_mins:
        timing.append(f"evaluation {sum(eval_mins):.0f} min")
    cached = all(r.cached for r in res) and not result.trained
    lines += _table(["", ""], [
        ["device", describe_device(result.device)],
        ["commit", f"`{git_commit(repo)}`"],
        ["command", f"`{result.command}`" if result.command else "(called from Python)"],
        ["date", _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")],
        ["software", f"torch {torch.__version__}, toonkit {toonkit.__version__}, Python {platform.python_version()}"],
        ["budget", _budget_text(result)],
        ["evaluation", f"test photos and masks resized (short side) and centre-cropped to {ev.size}², outputs "
                       f"made at {ev.size}², metrics computed there; size and speed at "
                       + (f"{ev.speed.size}²" if ev.speed else "(not measured)")],
        ["data", f"{counts['train_photos']} training photos with masks, {counts['train_cartoons']} training "
                 f"cartoons; {counts['test_photos']} test photos with masks; {counts['references']} reference "
                 f"cartoons (every {_ordinal(s.data.reference_every)} by file name, never trained on)"],
        ["time", "; ".join(timing + [f"this invocation {result.wall_s / 60:.1f} min (" + (
            "it reused the trained runs and cached results" if cached else f"trained in it: {trained_now}") + ")"])],
    ])
    lines.append("")
    if result.skipped:  # methods of the suite this installation cannot run (a plugin is missing)
        lines += ["**Not run:** " + "; ".join(result.skipped) + ".", ""]
    claims = claim_lines(result, scores)
    if claims:
        lines += ["## The paper's claim", ""] + claims + [""]
    lines += zero_point_lines(result)
    lines += skin_group_lines(result)
    lines += ["## Methods", ""]
    method_rows = []
    for r in res:
        steps = ", ".join(f"{k} {v}" for k, v in r.plan.phase_steps.items()) or "—"
        method_rows.append([r.plan.name, r.plan.method_type, r.plan.kind, steps,
                            _relative(r.source, result).replace("|", "/")])
    lines += _table(["method", "type", "how", "training steps", "translated with"], method_rows) + [""]
    lines += ["## Quality", "", "Best value per table in bold. Per-image measures are means over the test photos "
              "(each photo counts once); FD and KID compare the output set with the reference set.", ""]
    seen_metrics: set[int] = set()
    for metric, col, hib in scores:
        if id(metric) not in seen_metrics:
            seen_metrics.add(id(metric))
            name = getattr(metric, "name", col)
            lines += [f"### {name}", "", metric_description(metric), ""]
            settings = _settings(result, name)
            if settings:
                lines += [f"Settings: {settings}.", ""]
        values = [r.row.get(col, math.nan) for r in res]
        best = best_of([v for v, ok in zip(values, rankable(result, col)) if ok], hib)
        has_std = any(f"{col}_std" in r.row for r in res)
        cells = [[r.plan.name, _cell(v, best, r.row.get(f"{col}_std", math.nan) if has_std else None)]
                 for r, v in zip(res, values)]
        head = f"{col} ({better_words(hib)}{', ± std over KID subsets' if has_std else ''})"
        lines += _table(["method", head], cells) + [""]
        lines += _quality_notes(result, col, has_std)
    lines += _speed_section(result)
    lines += ["## Outputs", "", f"Rows: {grid_rows} of the test "
              f"photos, named on the left; columns: the input, then each method, named on top ({ev.size}² outputs"
              + (", enlarged for viewing" if ev.size < 128 else "") + ").", "", "![outputs](grid.png)", ""]
    lines += ["## Plots", ""]
    for p in plot_paths:
        rel = p.relative_to(result.out).as_posix()
        lines.append(f"- [{p.stem}]({rel})")
    lines += ["", f"![{_tradeoff_axis(result)[2]}](plots/speed_vs_quality.png)" if any(
        p.name == "speed_vs_quality.png" for p in plot_paths) else "", ""]
    notes = [f"- {r.plan.name}: {n}" for r in res for n in r.notes]
    if notes:
        lines += ["## Notes", ""] + notes + [""]
    lines += ["## Reproduce", "", "```", result.command or f"toonkit bench {result.suite.path.name}", "```", "",
              "Training runs, linked data and cached per-method results are kept in `work/` beside this "
              "report (not committed); rerunning the command reuses them.", ""]
    return "\n".join(lines)


def _quality_notes(result: BenchResult, col: str, has_std: bool) -> list[str]:
    """What a reader must know to read column ``col``'s table."""
    n, out = len(result.stems), []
    values = [r.row.get(col, math.nan) for r in result.results]
    stds = [r.row.get(f"{col}_std", math.nan) for r in result.results]
    if has_std and any(map(math.isfinite, values)) and not any(map(math.isfinite, stds)):
        out.append(f"Spread n/a: with {n} test photos and {result.data.counts.get('references', '?')} references "
                   "every KID subset holds the whole sets, so the subsets cannot show a spread.")
    if col.startswith(("FD", "FID")) and n < 50:
        out.append(f"The test set ({n} photos) is too small for FD and KID to be more than a rough indication: "
                   "both are biased and noisy on small sets.")
    if col == "leakage_rel":
        out.append("`leakage_rel` is leakage divided by how much the output at the person changes when the "
                   "person is replaced (same fills, background kept): read `leakage` beside it and beside the "
                   "content measures. n/a (and never best on `leakage`) marks an output that does not depend on "
                   "the person at all, such as a constant one.")
    return out + ([""] if out else [])


def _speed_section(result: BenchResult) -> list[str]:
    res = result.results
    lines = ["## Size and speed", ""]
    sp = result.suite.spec.eval.speed
    if sp is not None:
        lines += [f"Parameters and FLOPs of what runs at inference (the generator with its input step; for "
                  f"optimisation methods the fixed feature network, FLOPs of the whole per-image optimisation). "
                  f"Throughput on random {sp.size}² inputs after {sp.warmup} warm-up call(s), mean of "
                  f"{sp.repeats} timed calls (optimisation methods: one call, at batch "
                  f"{', '.join(map(str, sp.optimisation_batch_sizes)) or '—'}). Peak memory: what one "
                  f"call at the largest timed batch adds to the process (CPU: resident-set high-water mark above the baseline "
                  f"after freed memory is returned to the OS, '—' where no growth could be seen; CUDA: max allocated). 'During evaluation' is the throughput seen while making the test "
                  f"outputs and the leakage composites at the evaluation size. All are wall-clock measurements taken one "
                  f"method after another: other work on the machine lowers them.", ""]
    cols = speed_columns(result)
    if cols:
        info = {c: _speed_info(c) for c in cols}
        header = ["method"] + [info[c][0] for c in cols]
        bests = {c: best_of([speed_value(r.row, c) for r in res], info[c][1]) for c in cols}
        usual = max(sp.batch_sizes) if sp is not None and sp.batch_sizes else None

        def cell(row: dict[str, float], col: str) -> str:
            text = _cell(speed_value(row, col), bests[col])
            batch = peak_memory(row)[1]
            return text + (f" (batch {batch})" if col == PEAK and batch is not None and batch != usual else "")

        lines += _table(header, [[r.plan.name] + [cell(r.row, c) for c in cols] for r in res]) + [""]
    order = merged_order(r.plan.phases for r in res)  # each method's phases in its own order
    train_cols = sorted({c for r in res for c in r.row if c.startswith(TRAIN_STEP_PREFIX)},
                        key=lambda c: order.index(c[len(TRAIN_STEP_PREFIX):])
                        if c[len(TRAIN_STEP_PREFIX):] in order else len(order))
    if train_cols:
        lines += [f"Training seconds per step (batch {result.suite.spec.budget.batch_size}, "
                  f"{result.suite.spec.budget.size}²), median over the logged intervals of each phase. These are "
                  "wall-clock times of runs trained one after another: other work on the machine at the time "
                  "slows them, so they compare methods only roughly.", ""]
        bests = {c: best_of([r.row.get(c, math.nan) for r in res], False) for c in train_cols}
        bests["train_min"] = best_of([r.row.get("train_min", math.nan) for r in res], False)
        lines += _table(["method"] + [c[len(TRAIN_STEP_PREFIX):] for c in train_cols] + ["≈ minutes in all"],
                        [[r.plan.name] + [_cell(r.row.get(c, math.nan), bests[c]) for c in train_cols + ["train_min"]]
                         for r in res if r.plan.kind != "optimise"]) + [""]
    return lines
