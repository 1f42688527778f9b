"""Typed sections of a recipe. Component blocks (``nets``, ``losses``, ``augment``, ``method``) are
checked against the registry by :mod:`toonkit.recipe.validate`; everything else is checked here."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator


# YAML 1.1 reads a bare `off` as false: accept it as "off" wherever a precision is chosen
AmpMode = Annotated[Literal["auto", "off", "fp16", "bf16"],
                    BeforeValidator(lambda value: "off" if value is False else value)]


# Upper bounds: far above any real training, low enough that nothing tries to allocate the impossible
# (a size of 2**63 validated as an int and crashed deep inside torch).
MAX_SIDE = 16384  # pixels per image side
MAX_COUNT = 10**9  # steps, intervals, images
# a run name becomes the folder runs/<name>: a plain name, never a path
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d{1,2})?)$")


#: recipe sections made of component blocks, checked against the registry by :mod:`toonkit.recipe.validate`
COMPONENT_SECTIONS = ("nets", "losses", "augment")


def split_block(block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``{"type": name, **params}`` → ``(name, params)``.

    Example:
        >>> split_block({"type": "unet", "base_channels": 16})
        ('unet', {'base_channels': 16})
    """
    return block["type"], {k: v for k, v in block.items() if k != "type"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class DataSpec(Strict):
    """Where the images come from and how batches are made."""

    photos: Optional[str] = None  # folder of photos (recursive), or a trainA/trainB root
    cartoons: Optional[str] = None  # folder of style images
    masks: Optional[str] = None  # person masks matched to photos by file stem
    demo: bool = False  # generate toonkit's synthetic demo set into <run>/data when folders are unset
    demo_n: int = Field(48, ge=4, le=100_000)
    demo_size: int = Field(128, ge=32, le=4096)
    size: int = Field(256, ge=16, le=MAX_SIDE)  # training crop size
    load_size: Optional[int] = Field(None, ge=16, le=MAX_SIDE)  # short side before the crop (default: size)
    batch_size: int = Field(8, ge=1, le=65536)
    workers: int = Field(2, ge=0, le=256)
    flip: bool = True
    cache_smooth: bool = True  # compute edge-smoothed cartoons once per image and cache them
    max_images: Optional[int] = Field(None, ge=1, le=MAX_COUNT)  # cap per domain (quick experiments)
    max_cartoons: Optional[int] = Field(None, ge=1, le=MAX_COUNT)  # the first N style images by name only
    mask_teacher: Optional[dict[str, Any]] = None  # masker block that makes masks for photos lacking one
    # refuse, before training, a style folder that cannot teach a style (too few, too small, copies of one
    # image, photos): toonkit.data.checks
    check_style: bool = True

    @model_validator(mode="after")
    def _crop_fits(self) -> "DataSpec":
        if self.load_size is not None and self.load_size < self.size:
            raise ValueError(f"load_size ({self.load_size}) must be at least size ({self.size}): "
                             "the random crop is taken from the loaded image")
        return self


class PhaseSpec(Strict):
    """Length of one phase: ``epochs`` or ``steps`` (steps win when both are given)."""

    epochs: Optional[float] = Field(None, ge=0, le=MAX_COUNT)
    steps: Optional[int] = Field(None, ge=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _one_length(self) -> "PhaseSpec":
        if self.epochs is None and self.steps is None:
            raise ValueError("give 'epochs' or 'steps'")
        return self


class OptimSpec(Strict):
    """Adam settings for one network (NOTES: lr 2e-4, betas (0.5, 0.999))."""

    lr: float = Field(2e-4, gt=0, le=10)
    betas: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = (0.5, 0.999)
    weight_decay: float = Field(0.0, ge=0, le=10)
    scheduler: Literal["constant", "linear_decay", "cosine"] = "constant"
    decay_start: float = Field(0.5, ge=0, le=1)  # fraction of the phase after which decay starts
    # Adam's kernel. auto: torch's default (a loop over the tensors on the CPU, foreach on CUDA), what
    # toonkit always used. for_loop / foreach give bitwise the same weights as auto on the CPU; fused is
    # one kernel per tensor, 5× faster on the CPU (pix2pix's 57 M weights) but rounds differently
    # (about 1 ulp per step), so it is opt-in (benchmarks/perf.md, training step).
    impl: Literal["auto", "for_loop", "foreach", "fused"] = "auto"


class TrainSpec(Strict):
    """Everything the trainer owns."""

    seed: int = Field(0, ge=0, lt=2**63)
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    amp: AmpMode = "auto"
    channels_last: bool = False
    compile: bool = False
    ema: Optional[float] = Field(None, gt=0, lt=1)  # EMA decay of the generator, e.g. 0.999
    grad_clip: Optional[float] = Field(None, gt=0)
    phases: dict[str, PhaseSpec] = Field(default_factory=dict)
    optim: dict[str, OptimSpec] = Field(default_factory=dict)
    checkpoint_every: Optional[int] = Field(None, ge=1, le=MAX_COUNT)  # steps
    checkpoint_seconds: Optional[float] = Field(600.0, gt=0, le=MAX_COUNT)  # wall-clock seconds of training
    keep_checkpoints: int = Field(3, ge=1, le=10_000)
    sample_every: int = Field(500, ge=1, le=MAX_COUNT)
    sample_count: int = Field(4, ge=1, le=256)
    log_every: int = Field(10, ge=1, le=MAX_COUNT)
    deterministic: bool = False

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not DEVICE.match(value):
            raise ValueError(f"expected auto, cpu, mps, cuda or cuda:N, got {value!r}")
        return value


class RecipeSpec(Strict):
    """A whole recipe after validation."""

    name: str = "run"  # letters, digits, . _ -: the folder runs/<name>
    description: str = ""
    requires: list[str] = Field(default_factory=list)  # plugin distributions the recipe needs
    # `method: cartoongan` is short for `method: {type: cartoongan}`, as for every component block
    method: Annotated[dict[str, Any], BeforeValidator(lambda v: {"type": v} if isinstance(v, str) else v)]
    # start from a saved model's weights: a registered model, a model folder, a run or a checkpoint
    init: Optional[str] = Field(None, min_length=1, max_length=4096)
    data: DataSpec = Field(default_factory=DataSpec)
    nets: dict[str, Any] = Field(default_factory=dict)
    losses: dict[str, Any] = Field(default_factory=dict)
    augment: dict[str, Any] = Field(default_factory=dict)
    train: TrainSpec = Field(default_factory=TrainSpec)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not RUN_NAME.match(value):
            raise ValueError("must be a plain name (letters, digits, '.', '_', '-'; at most 128, not starting "
                             f"with '.'): it names the run folder runs/<name>, never a path; got {value!r}")
        return value
