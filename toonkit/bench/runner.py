"""``toonkit bench``: train what is missing, translate the test set with every method, score, report.

Everything the bench makes besides the report lives in ``<out>/work`` (linked data, training runs,
per-method results and outputs), so an interrupted bench picks up where it stopped: finished training
runs are kept (an unfinished one resumes from its newest checkpoint) and methods whose results are
cached for the same run, test set and metrics are not evaluated again.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import torch
from torch import Tensor

from toonkit.bench.data import load_references, load_test_set, materialise
from toonkit.bench.methods import MethodPlan, ensure_trained, load_translator, plan_methods
from toonkit.bench.result import BenchResult, MethodResult
from toonkit.bench.suite import Suite, SuiteError, load_suite
from toonkit.imaging import from_uint8, to_uint8
from toonkit.io_utils import atomic_write, atomic_write_text
from toonkit.methods.assemble import build_block
from toonkit.registry import did_you_mean
from toonkit.weights import WEIGHTS_ENV, weights_dir

log = logging.getLogger("toonkit.bench")

# Bump when cached results would no longer match what is computed (v2: per-photo values for the claims'
# bootstrap intervals, and leakage_rel; v3: embeddings for the zero point's KID ratio).
RESULT_VERSION = "bench-result-v3"


@contextlib.contextmanager
def weights_env(suite: Suite) -> Iterator[None]:
    """``TOONKIT_WEIGHTS_DIR`` from the suite's ``weights_dir`` while the bench runs, unless already set.

    A ``weights_dir`` that does not exist is skipped with a warning (pretrained networks then come from
    torchvision's cache, and metrics that cannot get their weights are reported as not computed), so a
    suite that points at optional local weights still runs elsewhere.
    """
    given = suite.spec.weights_dir
    if given is None or weights_dir() is not None:
        yield
        return
    path = suite.resolve(given)
    if not path.is_dir():
        log.warning("weights_dir %s does not exist: using %s / torchvision's cache", given, WEIGHTS_ENV)
        yield
        return
    os.environ[WEIGHTS_ENV] = str(path)
    try:
        yield
    finally:
        os.environ.pop(WEIGHTS_ENV, None)


def default_out(suite: Suite) -> Path:
    """``results/<suite name>`` beside the suite file (``benchmarks/results/<name>`` for those in
    ``benchmarks/``); ``runs/bench/<name>`` in the current folder for a suite shipped in the package."""
    from toonkit.bench.shipped import is_shipped

    if is_shipped(suite.path):
        return Path("runs") / "bench" / suite.name
    return suite.path.parent / "results" / suite.name


def _result_key(plan: MethodPlan, suite: Suite, metrics: list[dict[str, Any]], stems: list[str],
                references: Tensor, device: torch.device) -> str:
    from toonkit.bench.methods import DONE_FILE

    trained = ""
    if plan.kind == "train":
        assert plan.run_dir is not None
        trained = (plan.run_dir / DONE_FILE).read_text()
    parts = {"version": RESULT_VERSION, "fingerprint": plan.fingerprint, "trained": trained, "ema": plan.ema,
             "colors": plan.colors,
             "eval": suite.spec.eval.model_dump(mode="json"), "metrics": metrics, "test": stems,
             "references": [references.shape[0], float(references.double().sum())], "device": str(device)}
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _load_cached(path: Path, key: str) -> Optional[dict[str, Any]]:
    if not path.is_file() or not path.with_suffix(".pt").is_file():
        return None
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return cached if cached.get("key") == key else None


def _embeddings_path(cache: Path) -> Path:
    return cache.with_name(cache.stem + ".embeddings.pt")


def _load_embeddings(cache: Path) -> dict[str, Tensor]:
    """The cached embeddings of a result (empty when the file is missing or unreadable)."""
    path = _embeddings_path(cache)
    try:
        loaded = torch.load(path, weights_only=True) if path.is_file() else {}
    except (OSError, RuntimeError, ValueError):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, Tensor)} if isinstance(loaded, dict) else {}


def _to_json(row: dict[str, float]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _from_json(row: dict[str, Any]) -> dict[str, float]:
    return {k: (math.nan if v is None else v) for k, v in row.items()}


def _check_methods(suite: Suite, methods: Sequence[str] | None) -> None:
    """An unknown name in ``methods`` is a :class:`SuiteError` that lists the suite's methods."""
    known = list(suite.spec.methods)
    unknown = [m for m in methods or () if m not in known]
    if unknown:
        raise SuiteError([f"--methods: no method {m!r} in suite {suite.spec.name!r}{did_you_mean(m, known)} "
                          f"(methods: {', '.join(known)})" for m in unknown])


def run_suite(suite_path: str | Path | Suite, out: str | Path | None = None, command: str = "",
              device: str | None = None, quiet: bool = True,
              methods: Sequence[str] | None = None) -> BenchResult:
    """Run a suite end to end and write its report; see :mod:`toonkit.bench`.

    Args:
        suite_path: the suite YAML, or a validated :class:`Suite` (e.g. from ``suite_from_dict``).
        out: output folder (default :func:`default_out`).
        command: the command line, quoted in the report.
        device: overrides the suite's ``budget.device`` for training and evaluation.
        quiet: no progress bars while training (periodic log lines instead).
        methods: only these of the suite's methods are trained, evaluated and reported (default: all);
            claims about the others are left out of the report.

    Returns:
        the :class:`BenchResult` the report was written from.
    """
    from toonkit.bench.measure import evaluate, training_stats
    from toonkit.bench.report import write_report
    from toonkit.core.runtime import pick_device

    start = time.perf_counter()
    suite = suite_path if isinstance(suite_path, Suite) else load_suite(suite_path)
    _check_methods(suite, methods)
    if device is not None:
        suite.spec.budget.device = device
    out_dir = Path(out) if out is not None else default_out(suite)
    work = out_dir / "work"
    with weights_env(suite):
        data = materialise(suite, work)
        skipped: list[str] = []
        plans = [p for p in plan_methods(suite, data, work, skipped) if methods is None or p.name in methods]
        dev = pick_device(suite.spec.budget.device)
        trained = [p.name for p in plans if ensure_trained(p, quiet=quiet)]
        ev = suite.spec.eval
        stems, photos, masks = load_test_set(data, ev.size)
        references = load_references(data, ev.size)
        log.info("test set: %d photos; references: %d cartoons; evaluating at %d² on %s", len(stems),
                 references.shape[0], ev.size, dev)
        metrics = [build_block("metric", b) for b in suite.metrics]
        results: list[MethodResult] = []
        for plan in plans:
            cache = work / "results" / f"{plan.name}.json"
            key = _result_key(plan, suite, suite.metrics, stems, references, dev)
            cached = _load_cached(cache, key)
            if cached is not None:
                log.info("%s: results cached (same run, test set and metrics)", plan.name)
                outputs = from_uint8(torch.load(cache.with_suffix(".pt"), weights_only=True))
                row = {**_from_json(cached["row"]), **training_stats(plan)}
                per_image = {c: [math.nan if v is None else v for v in vs]
                             for c, vs in cached.get("per_image", {}).items()}
                embeddings = _load_embeddings(cache)
                results.append(MethodResult(plan, row, outputs, cached["notes"], cached["source"], cached=True,
                                            per_image=per_image, embeddings=embeddings))
                continue
            log.info("%s: evaluating", plan.name)
            tr = load_translator(plan, dev, ev.size)
            row, outputs, notes, per_image, embeddings = evaluate(plan, tr, metrics, photos, masks, references,
                                                                  dev, ev.batch_size, ev.speed)
            atomic_write(cache.with_suffix(".pt"), lambda fh, x=to_uint8(outputs): torch.save(x, fh), fsync=False)
            atomic_write(_embeddings_path(cache), lambda fh, x=embeddings: torch.save(x, fh), fsync=False)
            atomic_write_text(cache, json.dumps({"key": key, "row": _to_json(row), "notes": notes, "source": tr.source,
                                                 "per_image": {c: [None if math.isnan(v) else v for v in vs]
                                                               for c, vs in per_image.items()}}, indent=1))
            row.update(training_stats(plan))  # from the run's loss log: not cached, always current
            results.append(MethodResult(plan, row, outputs, notes, tr.source, per_image=per_image,
                                        embeddings=embeddings))
            del tr
    result = BenchResult(suite, out_dir, data, stems, photos, masks, metrics, results, dev, command,
                         time.perf_counter() - start, trained, skipped)
    write_report(result)
    return result
