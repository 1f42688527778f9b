"""Benchmarks: a suite (YAML) names methods, data, one training budget and metrics; :func:`run_suite`
trains what is missing, translates the test photos with every method, scores them and writes
``report.md``, ``results.csv``, ``grid.png`` and ``plots/`` (see ``toonkit bench``).

Example:
    >>> from toonkit.bench import run_suite
    >>> result = run_suite("benchmarks/suite_smoke.yaml", out="bench_out")  # doctest: +SKIP
    >>> sorted(p.name for p in result.out.iterdir())  # doctest: +SKIP
    ['grid.png', 'plots', 'report.md', 'results.csv', 'work']
"""
from toonkit.bench.runner import BenchResult, default_out, run_suite
from toonkit.bench.suite import Suite, SuiteError, load_suite, suite_from_dict

__all__ = ["BenchResult", "Suite", "SuiteError", "default_out", "load_suite", "run_suite", "suite_from_dict"]
