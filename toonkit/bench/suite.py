"""Benchmark suites: one YAML file naming the methods, the data, one training budget and the metrics.

A suite is validated before anything trains; every problem becomes one line
``<file>: <key.path>: <message>`` (:class:`SuiteError`, a :class:`~toonkit.recipe.RecipeError`, so the
CLI prints it like a recipe problem). Paths in a suite are relative to the suite file. Top-level
keys starting with ``x-`` are ignored, so they can hold YAML anchors that several methods share.

Example suite::

    name: my_suite
    weights_dir: ../weights            # TOONKIT_WEIGHTS_DIR when the environment sets none (if it exists)
    data:
      photos:                          # photos with person masks; `test` of each go to the test set
        - {photos: data/people/photos, masks: data/people/masks, test: 16}
      cartoons: data/handpainted       # every `reference_every`-th (sorted by name) is a reference
      reference_every: 5
    budget: {size: 96, batch_size: 4, steps: {init: 50, masker: 100, adversarial: 300}}
    methods:
      selfie_gan: {recipe: ../recipes/selfie_gan.yaml}
      cartoongan: {recipe: ../recipes/cartoongan.yaml}
      nst: {recipe: ../recipes/nst.yaml, overrides: [method.steps=50]}
    eval:
      size: 128
      metrics: [style_distance, lpips, background_leakage, color_drift]
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toonkit.recipe import RecipeError
from toonkit.recipe.schema import AmpMode
from toonkit.recipe.validate import _pydantic_problems, check_block, read_yaml
from toonkit.registry import Registry, did_you_mean


class SuiteError(RecipeError):
    """A suite failed validation; ``problems`` holds one line per problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhotoSource(_Strict):
    """One folder of photos with person masks (same file stems), split into test and training photos.

    Masks come from the ``masks`` folder, or, for photos without masks, from a ``mask_teacher`` (a
    registered masker such as ``mediapipe_selfie``) that writes them once into the bench's work folder.
    ``test_per_skin_group: k`` picks the test photos by skin tone instead of ``test``: up to ``k`` photos
    of each ITA° group (:mod:`toonkit.metrics.skin`), spread evenly within the group, from photos that
    show enough skin to classify.
    """

    photos: str
    masks: Optional[str] = None
    mask_teacher: Optional[Union[str, dict[str, Any]]] = None
    test: Union[int, Literal["all"]] = Field(0, description="photos of this folder in the test set")
    test_per_skin_group: Optional[int] = Field(None, ge=1)
    train: bool = True  # the photos not in the test set are training photos

    @model_validator(mode="after")
    def _one_mask_source(self) -> "PhotoSource":
        if (self.masks is None) == (self.mask_teacher is None):
            raise ValueError("give exactly one of 'masks' (a folder) or 'mask_teacher' (a masker name)")
        if self.test_per_skin_group is not None and self.test not in (0,):
            raise ValueError("give 'test' or 'test_per_skin_group', not both")
        return self

    @field_validator("test")
    @classmethod
    def _non_negative(cls, value: Union[int, str]) -> Union[int, str]:
        if isinstance(value, int) and value < 0:
            raise ValueError("must be >= 0 or 'all'")
        return value


class DemoData(_Strict):
    """toonkit's synthetic demo set (:func:`toonkit.data.make_demo`), generated into the work folder."""

    n: int = Field(24, ge=4)  # training photos, and cartoons
    size: int = Field(64, ge=32)
    n_test: int = Field(4, ge=2)
    seed: int = 0


class DataSpec(_Strict):
    """Training photos, test photos with masks, training cartoons and reference cartoons."""

    demo: Optional[DemoData] = None
    photos: list[PhotoSource] = Field(default_factory=list)
    cartoons: Optional[str] = None
    reference_every: int = Field(5, ge=2)  # every k-th cartoon by sorted file name is a reference

    @model_validator(mode="after")
    def _one_source(self) -> "DataSpec":
        if self.demo is None and not (self.photos and self.cartoons):
            raise ValueError("give 'demo' or both 'photos' and 'cartoons'")
        if self.demo is not None and (self.photos or self.cartoons):
            raise ValueError("give 'demo' or 'photos'/'cartoons', not both")
        return self


class Budget(_Strict):
    """The one training budget every trained method gets (same size, batch and steps per phase)."""

    size: int = Field(64, ge=16)
    load_size: Optional[int] = Field(None, ge=16)  # short side before the random crop (default: size)
    batch_size: int = Field(4, ge=1)
    steps: dict[str, int] = Field(default_factory=dict)  # phase name -> steps
    device: str = "auto"
    amp: AmpMode = "off"
    seed: int = 0
    workers: int = Field(1, ge=0)
    checkpoint_seconds: float = Field(120.0, gt=0)  # an interrupted bench loses at most this much

    @field_validator("steps")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in value.items() if v < 0]
        if bad:
            raise ValueError(f"steps must be >= 0 (phase {bad[0]!r})")
        return value


class SpeedSpec(_Strict):
    """Throughput measurement: square inputs of ``size``, timed at each batch size."""

    size: int = Field(256, ge=16)
    batch_sizes: list[int] = Field(default_factory=lambda: [1, 8])
    # optimisation methods (NST) repeat the whole optimisation per batch: time them at these only
    optimisation_batch_sizes: list[int] = Field(default_factory=lambda: [1])
    warmup: int = Field(1, ge=0)
    repeats: int = Field(3, ge=1)


#: what a suite measures when it names no metrics
DEFAULT_METRICS: tuple[Union[str, dict[str, Any]], ...] = ("style_distance", "lpips", "background_leakage",
                                                           "color_drift")


class EvalSpec(_Strict):
    """How outputs are made and scored."""

    size: int = Field(128, ge=16)  # test photos and references are resized and centre-cropped to size²
    metrics: list[Union[str, dict[str, Any]]] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    batch_size: int = Field(8, ge=1)
    grid_rows: int = Field(8, ge=1)
    speed: Optional[SpeedSpec] = Field(default_factory=SpeedSpec)  # null: no speed measurements


class MethodSpec(_Strict):
    """A method: a recipe to train under the budget, an existing run directory / checkpoint / model
    folder, or a registered non-learned ``filter`` (``photo``: the input unchanged, the zero point)."""

    recipe: Optional[str] = None
    run: Optional[str] = None
    filter: Optional[Union[str, dict[str, Any]]] = None
    # another method of the suite, scored again with other translate options (``colors``, ``ema``)
    # without training it twice
    of: Optional[str] = None
    overrides: list[str] = Field(default_factory=list)  # recipe overrides, KEY.PATH=VALUE
    style: Optional[str] = None  # style image for optimisation methods (default: first training cartoon)
    ema: bool = True  # translate with the generator's EMA weights when the checkpoint has them
    # the translate option --colors: keep puts the photo's colours back on the person (the model's masker);
    # style (the default here) scores the generator's own output
    colors: Literal["keep", "style"] = "style"

    @model_validator(mode="after")
    def _one_source(self) -> "MethodSpec":
        if sum(v is not None for v in (self.recipe, self.run, self.filter, self.of)) != 1:
            raise ValueError("give exactly one of 'recipe', 'run', 'filter' or 'of'")
        if self.of is not None and self.overrides:
            raise ValueError("'overrides' change training: give them to the method named by 'of'")
        if self.run is not None and self.overrides:
            raise ValueError("'overrides' apply to recipes, not to a trained 'run'")
        if self.filter is not None and self.colors != "style":
            raise ValueError("'colors' applies to trained models, not to a 'filter'")
        return self


class Claim(_Strict):
    """A comparison the report states in words: ``method`` against ``baseline`` on ``columns``."""

    method: str
    baseline: str
    columns: list[str] = Field(default_factory=lambda: ["leakage", "dE2000"])


class ZeroPoint(_Strict):
    """The method every other one's style distance is divided by (usually a ``photo`` filter): the report
    gives each method's KID as a ratio to it, with a bootstrap interval over test photos and references."""

    method: str

class SuiteSpec(_Strict):
    name: str
    description: str = ""
    weights_dir: Optional[str] = None
    data: DataSpec
    budget: Budget = Field(default_factory=Budget)
    methods: dict[str, MethodSpec]
    eval: EvalSpec = Field(default_factory=EvalSpec)
    claims: list[Claim] = Field(default_factory=list)
    zero_point: Optional[ZeroPoint] = None

    @field_validator("name")
    @classmethod
    def _file_name(cls, value: str) -> str:
        if not value or any(c in value for c in "/\\:") or value.startswith("."):
            raise ValueError("must be a plain name usable as a folder name")
        return value

    @field_validator("methods")
    @classmethod
    def _some(cls, value: dict[str, MethodSpec]) -> dict[str, MethodSpec]:
        if not value:
            raise ValueError("name at least one method")
        return value


class Suite:
    """A validated suite: ``spec`` with every path resolved against the suite file's folder.

    Attributes:
        spec: the typed suite.
        path: the suite file.
        metrics: the metric blocks, ``{"type": name, **params}``, checked against the registry.
    """

    def __init__(self, spec: SuiteSpec, path: Path, metrics: list[dict[str, Any]]) -> None:
        self.spec, self.path, self.metrics = spec, path, metrics

    @property
    def name(self) -> str:
        return self.spec.name

    def resolve(self, relative: str) -> Path:
        """``relative`` (as written in the suite) against the suite file's folder."""
        return (self.path.parent / relative).expanduser().resolve()


def _check_paths(spec: SuiteSpec, base: Path) -> list[str]:
    """Existence of every folder and file the suite names."""
    problems: list[str] = []

    def need(value: Optional[str], where: str, kind: str) -> None:
        if value is None:
            return
        p = (base / value).expanduser()
        ok = p.is_dir() if kind == "folder" else p.exists()
        if not ok:
            problems.append(f"{where}: no such {kind}: {value} (paths are relative to the suite file)")

    for i, src in enumerate(spec.data.photos):
        need(src.photos, f"data.photos.{i}.photos", "folder")
        need(src.masks, f"data.photos.{i}.masks", "folder")
    need(spec.data.cartoons, "data.cartoons", "folder")
    for name, m in spec.methods.items():
        need(m.recipe, f"methods.{name}.recipe", "file")
        need(m.run, f"methods.{name}.run", "run directory or checkpoint")
        need(m.style, f"methods.{name}.style", "file")
    return problems


def _check_claims(spec: SuiteSpec) -> list[str]:
    problems = []
    names = list(spec.methods)
    named = [(f"claims.{i}.{key}", getattr(claim, key)) for i, claim in enumerate(spec.claims)
             for key in ("method", "baseline")]
    named += [(f"methods.{name}.of", m.of) for name, m in spec.methods.items() if m.of is not None]
    for name, m in spec.methods.items():
        target = spec.methods.get(m.of) if m.of is not None else None
        if target is not None and (target.of is not None or target.filter is not None):
            problems.append(f"methods.{name}.of: '{m.of}' must be a trained method or a run, "
                            "not a filter or another 'of'")
    if spec.zero_point is not None:
        named.append(("zero_point.method", spec.zero_point.method))
    for where, value in named:
        if value not in spec.methods:
            problems.append(f"{where}: no method '{value}' in this suite"
                            f"{did_you_mean(value, names)} (methods: {', '.join(names)})")
    return problems


def check_components(spec: SuiteSpec, registry: Registry) -> list[str]:
    """The suite's filter and mask-teacher blocks against the registry (one line per problem)."""
    problems: list[str] = []
    for name, m in spec.methods.items():
        if m.filter is not None:
            problems += check_block(registry, "filter", m.filter, f"methods.{name}.filter")[1]
    for i, src in enumerate(spec.data.photos):
        if src.mask_teacher is not None:
            problems += check_block(registry, "masker", src.mask_teacher, f"data.photos.{i}.mask_teacher")[1]
    return problems


def check_metrics(metrics: list[Any], registry: Registry) -> tuple[list[dict[str, Any]], list[str]]:
    """Metric entries (names or ``{type: name, **params}``) checked against the registered metrics."""
    blocks, problems = [], []
    for i, item in enumerate(metrics):
        block, probs = check_block(registry, "metric", item, f"eval.metrics.{i}")
        problems += probs
        if block is not None:
            blocks.append(block)
    return blocks, problems


def suite_from_dict(data: dict[str, Any], path: str | Path, registry: Registry | None = None) -> Suite:
    """Validate a suite given as a dict (as read from ``path``; relative paths resolve against it)."""
    if registry is None:
        from toonkit.plugins import get_registry

        registry = get_registry()
    path = Path(path)
    source = str(path)
    # top-level keys starting with "x-" hold YAML anchors shared by several methods (as in compose files)
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as exc:
        raise SuiteError([f"{source}: {p}" for p in _pydantic_problems(exc, SuiteSpec)]) from None
    problems = _check_paths(spec, path.parent)
    problems += _check_claims(spec)
    problems += check_components(spec, registry)
    metrics, probs = check_metrics(spec.eval.metrics, registry)
    problems += probs
    if problems:
        raise SuiteError([f"{source}: {p}" for p in problems])
    return Suite(spec, path.resolve(), metrics)


def load_suite(path: str | Path, registry: Registry | None = None) -> Suite:
    """Read and validate a suite file.

    Raises:
        SuiteError: one line per problem, ``<file>: <key.path>: <message>``.

    Example:
        >>> suite = load_suite("benchmarks/suite_smoke.yaml")  # doctest: +SKIP
        >>> list(suite.spec.methods)  # doctest: +SKIP
        ['selfie_gan', 'cartoongan', 'cyclegan', 'pix2pix_outline', 'nst', 'animegan']
    """
    try:
        data = read_yaml(path, what="suite")
    except RecipeError as exc:
        raise SuiteError(exc.problems) from None
    return suite_from_dict(data, path, registry)
