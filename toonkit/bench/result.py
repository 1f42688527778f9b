"""What a bench run produced: one :class:`MethodResult` per method, gathered in a :class:`BenchResult`
that the report and the claims are written from (they import this module, never the runner)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from toonkit.bench.data import SuiteData
from toonkit.bench.methods import MethodPlan
from toonkit.bench.suite import Suite
from toonkit.metrics import Metric


@dataclass
class MethodResult:
    """One method's row, outputs and notes."""

    plan: MethodPlan
    row: dict[str, float]
    outputs: Tensor
    notes: list[str] = field(default_factory=list)
    source: str = ""
    cached: bool = False
    per_image: dict[str, list[float]] = field(default_factory=dict)  # column -> one value per test photo
    embeddings: dict[str, Tensor] = field(default_factory=dict)  # set-level metrics' (N, D) features


@dataclass
class BenchResult:
    """Everything the report is written from."""

    suite: Suite
    out: Path
    data: SuiteData
    stems: list[str]
    photos: Tensor
    masks: Tensor
    metrics: list[Metric]
    results: list[MethodResult]
    device: torch.device
    command: str
    wall_s: float
    trained: list[str]
    skipped: list[str] = field(default_factory=list)  # methods left out, each with why (a missing plugin)
