"""The methods of a suite: recipes resolved under the budget, trained (resumably) into the work folder,
and loaded back as translate functions."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import Tensor

from toonkit.errors import Interrupted
from toonkit.methods.assemble import method_class
from toonkit.plugins import get_registry
from toonkit.bench.data import SuiteData, load_style
from toonkit.bench.suite import Suite, SuiteError
from toonkit.recipe import Recipe, RecipeError, load_recipe

log = logging.getLogger("toonkit.bench")

DONE_FILE = "bench_done.json"
FINGERPRINT_FILE = "bench_fingerprint.txt"


class BenchInterrupted(Interrupted):
    """Ctrl-C while a method of the suite trained: its checkpoint was saved; rerunning continues (exit 130)."""


@dataclass
class MethodPlan:
    """One column of the benchmark.

    Attributes:
        name: the suite's name for it.
        kind: ``train`` (a recipe trained under the budget), ``run`` (an existing run or checkpoint),
            ``optimise`` (a method without training, e.g. NST, run per image) or ``filter`` (a registered
            non-learned filter, e.g. ``photo``, the zero point).
        recipe: the resolved recipe (``train`` and ``optimise``).
        run_dir: where it is (or will be) trained, or the given run / checkpoint.
        fingerprint: hash of what determines the trained weights (data paths excluded).
        phase_steps: steps per phase it is trained for.
        phases: its method's phases, in the method's order (reports show phases in it).
    """

    name: str
    kind: str
    recipe: Optional[Recipe]
    run_dir: Optional[Path]
    fingerprint: str
    method_type: str
    phase_steps: dict[str, int] = field(default_factory=dict)
    style: Optional[Path] = None
    ema: bool = True
    filter: Optional[dict[str, Any]] = None  # the resolved filter block of a ``filter`` method
    colors: str = "style"  # translate's --colors for trained models (keep: the photo's colours, by the masker)
    phases: tuple[str, ...] = ()


def _value(value: Any) -> str:
    """An override value YAML reads back as exactly ``value`` (``"off"`` stays a string)."""
    return json.dumps(value)


#: the recipe keys (or prefixes) of budget_overrides that describe the budget rather than the data's place;
#: a method overriding one of them trains on a budget of its own, which the report says
BUDGET_KEYS = ("data.size", "data.load_size", "data.batch_size", "train.seed", "train.amp", "train.phases.")


def budget_overrides(suite: Suite, data: SuiteData, phases: list[str]) -> list[str]:
    """The overrides that put a recipe on the suite's data and budget."""
    b = suite.spec.budget
    steps = [v for k, v in b.steps.items() if k in phases and v > 0]
    log_every = max(1, min(20, min(steps, default=1) // 10))  # >= 10 timed rows in the shortest phase
    out = [f"data.photos={_value(str(data.train_photos))}", f"data.masks={_value(str(data.train_masks))}",
           f"data.cartoons={_value(str(data.train_cartoons))}", "data.demo=false",
           f"data.size={b.size}", f"data.load_size={b.load_size or b.size}", f"data.batch_size={b.batch_size}",
           f"data.workers={b.workers}", f"train.seed={b.seed}", f"train.device={_value(b.device)}",
           f"train.amp={_value(b.amp)}", f"train.checkpoint_seconds={b.checkpoint_seconds}",
           f"train.log_every={log_every}"]
    out += [f"train.phases.{p}.steps={b.steps[p]}" for p in phases if p in b.steps]
    return out


def fingerprint(recipe: Recipe) -> str:
    """Hash of the resolved recipe without its data folders (they move with the output folder)."""
    data = recipe.to_dict()
    for key in ("photos", "masks", "cartoons"):
        data.get("data", {}).pop(key, None)
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def plan_methods(suite: Suite, data: SuiteData, work: Path, skipped: list[str] | None = None
                 ) -> list[MethodPlan]:
    """Resolve every method of the suite; all problems are raised together as one :class:`SuiteError`.

    A method whose recipe names components of a plugin package that is not installed (or disabled) is
    not a problem of the suite: it is left out, with a line saying why and how to install the plugin
    appended to ``skipped`` (and logged), and the other methods run.
    """
    plans: list[MethodPlan] = []
    problems: list[str] = []
    registry = get_registry()
    for name, m in suite.spec.methods.items():
        where = f"{suite.path}: methods.{name}"
        if m.of is not None:
            continue  # planned below, as a copy of the method it names
        if m.filter is not None:
            from toonkit.recipe.validate import check_block

            block, _ = check_block(registry, "filter", m.filter, f"methods.{name}.filter")  # checked on load
            assert block is not None
            plans.append(MethodPlan(name, "filter", None, None, json.dumps(block, sort_keys=True), block["type"],
                                    filter=block))
            continue
        if m.run is not None:
            plans.append(_plan_run(name, suite.resolve(m.run), where, problems))
            plans[-1].ema, plans[-1].colors = m.ema, m.colors
            continue
        assert m.recipe is not None
        path = suite.resolve(m.recipe)
        try:
            raw = load_recipe(path, list(m.overrides))
        except RecipeError as exc:
            if exc.missing_plugins:
                reason = _skip_reason(name, exc.missing_plugins)
                log.warning("%s", reason)
                if skipped is not None:
                    skipped.append(reason)
                continue
            problems += [f"{where}: {line}" for line in exc.problems]
            continue
        method_cls = method_class(raw.method, registry)
        phases = [p.name for p in method_cls.phases]
        if not method_cls.trainable:
            style = suite.resolve(m.style) if m.style else data.style
            plans.append(MethodPlan(name, "optimise", raw, None, fingerprint(raw) + _file_hash(style),
                                    raw.method, style=style))
            continue
        missing = [p for p in phases if p not in suite.spec.budget.steps]
        if missing:
            problems.append(f"{suite.path}: budget.steps: no length for phase(s) {', '.join(missing)} of "
                            f"method '{name}' ({raw.method}: phases {', '.join(phases)})")
            continue
        try:
            recipe = load_recipe(path, budget_overrides(suite, data, phases) + list(m.overrides))
        except RecipeError as exc:
            problems += [f"{where}: {line}" for line in exc.problems]
            continue
        steps = {p: int(recipe.spec.train.phases[p].steps or 0) for p in phases}  # the budget set each one
        plans.append(MethodPlan(name, "train", recipe, work / "runs" / name, fingerprint(recipe), recipe.method,
                                steps, ema=m.ema, colors=m.colors, phases=tuple(phases)))
    if problems:
        raise SuiteError(problems)
    by_name = {p.name: p for p in plans}
    for name, m in suite.spec.methods.items():
        if m.of is not None and m.of in by_name:  # (a skipped plugin method leaves its copies out too)
            plans.append(dataclasses.replace(by_name[m.of], name=name, colors=m.colors, ema=m.ema))
    order = list(suite.spec.methods)
    return sorted(plans, key=lambda p: order.index(p.name))


def _skip_reason(name: str, dists: list[str]) -> str:
    from toonkit.plugins.catalog import requirement_problem

    # each says "plugin X not installed (pip install ...)", "... disabled by ..." or "... broken: ..."
    return f"{name}: skipped, " + "; ".join(requirement_problem(d) or f"plugin {d} not loaded" for d in dists)


def _file_hash(path: Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:8]


def _plan_run(name: str, path: Path, where: str, problems: list[str]) -> MethodPlan:
    from toonkit.errors import ModelError
    from toonkit.translate.pretrained import is_model_folder
    from toonkit.translate.stored import read_folder, read_run

    try:
        if is_model_folder(path):  # a model folder (save_pretrained / export): no training state
            folder = read_folder(path)
            trained = (folder.info.get("trained") or {}).get("steps") or {}
            steps = {k: int(v) for k, v in trained.items() if isinstance(v, int)}
            from toonkit.pretrained import WEIGHTS_FILE

            return MethodPlan(name, "run", None, path, f"{path.name}:{_file_hash(path / WEIGHTS_FILE)}",
                              folder.spec.method_name,
                              steps, phases=tuple(p.name for p in folder.spec.method_class().phases))
        stored = read_run(path)
    except ModelError as exc:
        problems.append(f"{where}.run: {exc}")
        return MethodPlan(name, "run", None, path, "", "")
    phases = tuple(p.name for p in stored.spec.method_class().phases)
    # how long each phase was planned to train (the bench's training-time estimate), from the run's recipe
    planned = ((stored.recipe or {}).get("train") or {}).get("phases") or {}
    steps = {p: int(planned[p]["steps"]) for p in phases
             if isinstance(planned.get(p), dict) and isinstance(planned[p].get("steps"), int)}
    return MethodPlan(name, "run", None, path, f"{stored.path.name}:{stored.step}:{_file_hash(stored.path)}",
                      stored.spec.method_name, steps, phases=phases)


# -- training ---------------------------------------------------------------------------------------
def is_trained(plan: MethodPlan) -> bool:
    """Whether ``plan``'s run finished training with exactly this recipe."""
    if plan.kind != "train":
        return True
    assert plan.run_dir is not None
    done = plan.run_dir / DONE_FILE
    if not done.is_file():
        return False
    try:
        return json.loads(done.read_text()).get("fingerprint") == plan.fingerprint
    except (OSError, ValueError):
        return False


def ensure_trained(plan: MethodPlan, quiet: bool = True) -> bool:
    """Train ``plan`` unless its run is complete; resume an interrupted run of the same recipe.

    A run left by a different recipe (the suite's budget or overrides changed) is deleted and retrained:
    the work folder is the bench's own cache.

    Returns:
        True when training ran (fully or resumed), False when the run was already complete.
    """
    if is_trained(plan):
        return False
    from toonkit.core.checkpoint import list_checkpoints
    from toonkit.train import train
    from toonkit.train.trainer import TrainingInterrupted

    assert plan.run_dir is not None and plan.recipe is not None
    run_dir = plan.run_dir
    stamp = run_dir / FINGERPRINT_FILE
    if run_dir.exists() and (not stamp.is_file() or stamp.read_text().strip() != plan.fingerprint):
        log.warning("%s: %s was trained with another recipe (the suite changed): retraining", plan.name, run_dir)
        shutil.rmtree(run_dir)
    resume = bool(run_dir.exists() and list_checkpoints(run_dir / "checkpoints"))
    run_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(plan.fingerprint + "\n")
    total = sum(plan.phase_steps.values())
    log.info("%s: %s %s (%d steps: %s)", plan.name, "resuming" if resume else "training", plan.method_type, total,
             ", ".join(f"{k} {v}" for k, v in plan.phase_steps.items()))
    try:
        train(plan.recipe, run_dir, resume=resume, quiet=quiet)
    except TrainingInterrupted:
        raise BenchInterrupted(f"{plan.name}: training interrupted, a checkpoint saved; run the same "
                               "`toonkit bench` command again to continue where it stopped") from None
    found = list_checkpoints(run_dir / "checkpoints")
    (run_dir / DONE_FILE).write_text(json.dumps({"fingerprint": plan.fingerprint,
                                                 "checkpoint": found[-1].name if found else None}) + "\n")
    return True


# -- translation ------------------------------------------------------------------------------------
@dataclass
class Translator:
    """A method ready to translate: the function the metrics call, and what to count for size/speed.

    Attributes:
        translate: photos :math:`(N, 3, H, W)` in [-1, 1] → cartoons of the same shape.
        flops_fn: the callable whose FLOPs are counted per image (the generator with its input step);
            ``None`` for optimisation methods.
        params: parameters that run at inference.
        source: what was loaded (for the report).
        nst_method: an optimisation method's per-image method (its ``steps`` are varied to count FLOPs).
    """

    translate: Callable[[Tensor], Tensor]
    flops_fn: Optional[Callable[[Tensor], Tensor]]
    params: int
    source: str
    nst_method: Any = None
    filter: bool = False

    @property
    def optimisation(self) -> bool:
        """Whether the method optimises each image (no generator whose FLOPs are counted)."""
        return self.flops_fn is None and not self.filter


def load_translator(plan: MethodPlan, device: str | torch.device, style_size: int) -> Translator:
    """Load ``plan``'s trained generator (EMA weights when present) or build its optimisation method."""
    from toonkit.metrics.perf import count_parameters
    from toonkit.translate import load

    if plan.kind == "filter":
        from toonkit.methods.assemble import build_block

        assert plan.filter is not None
        module = build_block("filter", plan.filter)
        params = ", ".join(f"{k}={v}" for k, v in plan.filter.items() if k != "type")
        return Translator(module, None, 0, f"filter {plan.filter['type']}" + (f" ({params})" if params else ""),
                          filter=True)
    if plan.kind == "optimise":
        from toonkit.translate.nst import StyleTransfer

        assert plan.recipe is not None and plan.style is not None
        # the recipe as resolved, every block of it (an `arch: vgg19` set there reaches the network)
        st = StyleTransfer.from_recipe(plan.recipe, load_style(plan.style, style_size), size=style_size,
                                       device=device)
        return Translator(st.generate, None, count_parameters(st.generator),
                          f"{st.source}, style {plan.style.name}", nst_method=st.method)
    assert plan.run_dir is not None
    keep = plan.colors == "keep"
    toon = load(plan.run_dir, device=device, masker=None if keep else False, ema=plan.ema)

    def flops_fn(x: Tensor) -> Tensor:
        return toon.generator(toon.prepare_input(x))

    def translate(x: Tensor) -> Tensor:
        if not keep:
            return toon.generate(x)
        from toonkit.translate.colors import keep_colors

        return keep_colors(x, toon.generate(x), toon.mask(x) if toon.has_masker else None)

    source = toon.source + (", --colors keep" if keep else "")
    return Translator(translate, flops_fn, count_parameters(toon.generator), source)
