"""The times the README quotes, measured: wall and CPU time of its timed commands, with machine and commit.

Usage:
    python benchmarks/readme_times.py                   # quick start and default bench -> readme_times.md
    python benchmarks/readme_times.py --with-tests      # the test suite and its slow tests too
    python benchmarks/readme_times.py --only quickstart,bench

Each command is taken from README.md as written (a leading ``pip install`` step is left out: installing is
not timed) and run with ``bash -c``: the quick start and the bench in a fresh temporary folder holding a
copy of ``recipes/`` (as in a fresh checkout, nothing trained yet), the test suite in the checkout. Wall
time is the clock; CPU time is user + system time of the command and every process it started
(``resource.getrusage(RUSAGE_CHILDREN)``), which other jobs on the machine do not inflate, so it is the
figure to compare on a shared machine. The load average before and after says how busy the machine was.
The results replace ``benchmarks/readme_times.md``; the README quotes its last output.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "tests"))

from test_readme import _strip_comment, readme_commands
from toonkit.bench.report import cpu_name, git_commit

OUT = REPO / "benchmarks" / "readme_times.md"


@dataclass(frozen=True)
class Timed:
    """A README command this script times: how to find its line, and where it runs."""

    name: str
    marker: str  # the README command is the first bash line that contains this (or is it, with exact)
    in_checkout: bool  # run in the checkout (the tests) rather than a fresh temporary folder
    exact: bool = False


COMMANDS = (
    Timed("quickstart", "toonkit run recipes/quickstart.yaml", in_checkout=False),
    Timed("bench", "toonkit bench", in_checkout=False),
    Timed("tests", "python -m pytest -q", in_checkout=True, exact=True),
    Timed("slow tests", "python -m pytest -q -m slow", in_checkout=True, exact=True),
)
#: pytest's report of its slowest tests, added to the test commands' environment (not to the command)
DURATIONS = "--durations=20"


def readme_command(marker: str, exact: bool = False) -> str:
    """The first README command containing ``marker`` (or equal to it), as written, without a leading
    ``pip install``."""
    for command in readme_commands():  # tests/test_readme.py's reading of the README, not a second one
        text = _strip_comment(command.text)
        if text == marker if exact else marker in text:
            return " && ".join(s.strip() for s in text.split("&&") if not s.strip().startswith("pip install"))
    raise SystemExit(f"README.md has no bash command containing {marker!r}")


@dataclass
class Measured:
    name: str
    command: str
    wall_s: float
    cpu_s: float
    returncode: int
    tail: str
    load: float  # mean 1-minute load average while it ran
    durations: str = ""  # pytest's slowest tests, for the test commands
    failed: list[str] = field(default_factory=list)  # pytest's FAILED / ERROR lines


def run_timed(name: str, command: str, cwd: Path, pytest_addopts: str = "") -> Measured:
    """Run ``command`` with bash in ``cwd``; wall time, and CPU time of it and all its descendants."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if pytest_addopts:
        env["PYTEST_ADDOPTS"] = " ".join(filter(None, [env.get("PYTEST_ADDOPTS", ""), pytest_addopts]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    loads: list[float] = []
    done = threading.Event()

    def sample_load() -> None:  # how busy the machine was while the command ran (its own load included)
        while not done.wait(10.0):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    sampler.start()
    start = time.perf_counter()
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = proc.stdout.strip().splitlines()
    tail = out[-1] if out else (proc.stderr.strip().splitlines() or [""])[-1]
    failed = [line for line in out if line.startswith(("FAILED ", "ERROR "))]  # pytest's -ra summary
    load = sum(loads) / len(loads) if loads else os.getloadavg()[0]
    return Measured(name, command, wall, cpu, proc.returncode, tail, load, _durations(proc.stdout), failed)


def _durations(stdout: str) -> str:
    """The block pytest prints under ``slowest N durations`` ('' when there is none)."""
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if "slowest" in line and "durations" in line), None)
    if start is None:
        return ""
    block = []
    for line in lines[start + 1:]:
        if not line.strip() or line.startswith("="):
            break
        block.append(line)
    return "\n".join(block)


def _minutes(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _threads() -> str:
    import torch

    env = os.environ.get("OMP_NUM_THREADS")
    given = f" (OMP_NUM_THREADS={env})" if env else " (torch's default: one per core)"
    return f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads{given}"


def markdown(results: list[Measured], load_before: float, started: str, commit: str) -> str:
    cores = os.cpu_count() or 1
    lines = [
        "# The README's times",
        "",
        "Written by `python benchmarks/readme_times.py` (its last run; do not edit by hand). The README quotes",
        "these figures. Installation is not timed. CPU time counts every process a command started (user +",
        "system); other jobs on the machine do not inflate it, so on a shared machine it is the figure to",
        f"compare. Wall time on {cores} idle cores lies between CPU time / {cores} (perfect use of every core)",
        "and the CPU time (one core at a time); on a busy machine it is longer than both.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {started} |",
        f"| commit | {commit} |",
        f"| machine | {cpu_name()}, {cores} logical cores; {platform.system()} {platform.release()} |",
        f"| threads | {_threads()} |",
        f"| load | 1-minute load average {load_before:.1f} as the run started; each row gives the mean while "
        "its command ran, the command's own threads included (about 1 per thread it keeps busy): a higher "
        "mean means other jobs shared the cores, which inflates wall time, not CPU time |",
        f"| python | {platform.python_version()}, `{Path(sys.executable).name}` |",
        "",
        "| command | wall | CPU (user + system) | load | exit | last line |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        last = r.tail.replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {r.name}: `{r.command}` | {_minutes(r.wall_s)} | {_minutes(r.cpu_s)} | {r.load:.1f} "
                     f"| {r.returncode} | {last} |")
    for r in results:
        if r.failed:
            lines += ["", f"Failures of `{r.command}`:", "", "```", *r.failed, "```"]
    for r in results:
        if r.durations:
            lines += ["", f"Slowest tests of `{r.command}` (`{DURATIONS}`, wall seconds on this machine):", "",
                      "```", r.durations, "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--with-tests", action="store_true",
                        help="also time the test suite and its slow tests (many minutes)")
    parser.add_argument("--only", default=None, help="comma-separated names: " +
                        ", ".join(c.name for c in COMMANDS))
    parser.add_argument("--out", type=Path, default=OUT, help=f"markdown file (default: {OUT.relative_to(REPO)})")
    parser.add_argument("--append", action="store_true",
                        help="add this run below the file's earlier ones (e.g. the same commands with other "
                             "thread settings) instead of replacing them")
    args = parser.parse_args(argv)
    names = (set(args.only.split(",")) if args.only
             else {c.name for c in COMMANDS if not c.in_checkout or args.with_tests})
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_before = os.getloadavg()[0]
    commit = git_commit(REPO)  # what is measured: the checkout as the run starts
    results = []
    with tempfile.TemporaryDirectory(prefix="toonkit_readme_") as tmp:
        shutil.copytree(REPO / "recipes", Path(tmp) / "recipes")  # a fresh checkout's recipes, nothing trained
        for timed in COMMANDS:
            if timed.name not in names:
                continue
            command = readme_command(timed.marker, timed.exact)
            print(f"{timed.name}: {command}", file=sys.stderr, flush=True)
            result = run_timed(timed.name, command, REPO if timed.in_checkout else Path(tmp),
                               DURATIONS if timed.in_checkout else "")
            print(f"  wall {_minutes(result.wall_s)}, CPU {_minutes(result.cpu_s)}, exit {result.returncode}",
                  file=sys.stderr, flush=True)
            results.append(result)
    text = markdown(results, load_before, started, commit)
    if args.append and args.out.is_file():
        text = args.out.read_text(encoding="utf-8") + "\n## A further run\n\n" + text.split("\n\n", 2)[2]
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return max((r.returncode for r in results), default=0)


if __name__ == "__main__":
    sys.exit(main())
