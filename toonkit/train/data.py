"""Batches for the trainer: which data each phase reads, built from ``recipe.data``.

Phases read ``photos`` (photo [+ mask]), ``cartoons`` (cartoon [+ smoothed twin]) or ``unpaired``
(both). Streams come from :class:`~toonkit.train.sampler.StepSampler`, so they are reproducible,
resumable and split across DDP ranks.
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Iterator

import torch
from torch.utils.data import DataLoader

from toonkit.recipe import Recipe, RecipeError
from toonkit.core.runtime import DistInfo
from toonkit.train.sampler import Seeded, StepSampler

log = logging.getLogger("toonkit.train")


class TrainData:
    """Builds the datasets of a recipe once and hands out resumable batch streams.

    Args:
        recipe: the resolved recipe (its ``data`` section and seed).
        run_dir: the run folder (demo data and caches go there).
        dist: this process's place in a DDP run.
        needs_masks: a phase the method trains reads person masks.
        smoothing: the recipe's block of the method's smoothing augmenter
            (:attr:`~toonkit.methods.base.Roles.smoothing`), whose twins of the cartoons are made once per
            image and cached (``batch["smooth"]``), or None.
    """

    def __init__(self, recipe: Recipe, run_dir: Path, dist: DistInfo, needs_masks: bool = False,
                 smoothing: dict[str, Any] | None = None) -> None:
        from toonkit.data.datasets import CartoonDataset, PhotoDataset, UnpairedDataset, require_masks

        spec = recipe.spec.data
        self.spec, self.seed, self.dist = spec, recipe.spec.train.seed, dist
        photos, cartoons, masks = spec.photos, spec.cartoons, spec.masks
        synthetic = bool(spec.demo and not (photos and cartoons))
        if synthetic:
            root = run_dir / "data"
            if dist.is_main and not (root / "photos").is_dir():
                from toonkit.data.demo import make_demo

                make_demo(root, n=spec.demo_n, size=spec.demo_size, seed=recipe.spec.train.seed)
            _barrier(dist)
            photos, cartoons, masks = str(root / "photos"), str(root / "cartoons"), str(root / "masks")
        if not photos or not cartoons:
            raise RecipeError([f"{recipe.source}: data.photos and data.cartoons must name folders "
                               "(or set data.demo: true to use the synthetic demo set)"])
        load_size = spec.load_size or spec.size
        teacher_dir = run_dir / "cache" / "teacher_masks"
        if needs_masks and not masks:
            if not spec.mask_teacher:
                raise RecipeError([
                    f"{recipe.source}: method '{recipe.method}' needs person masks: set "
                    "data.masks to a folder of masks (same file stems as the photos), or "
                    "data.mask_teacher to a masker that makes them (e.g. {type: mediapipe_selfie})"])
            teacher_dir.mkdir(parents=True, exist_ok=True)  # the teacher's masks land (and stay) here
            masks = str(teacher_dir)
        self.photos = PhotoDataset(photos, masks=masks if needs_masks else None, size=spec.size,
                                   load_size=load_size, hflip=spec.flip)
        if smoothing and not _is_edge_smooth(smoothing):
            smoothing = None  # the data pipeline makes EdgeSmooth twins only: the method smooths on its device
        cache = run_dir / "cache" / "smooth" if spec.cache_smooth and smoothing else None
        self.cartoons = CartoonDataset(cartoons, size=spec.size, load_size=load_size, hflip=spec.flip,
                                       smooth=cache is not None, cache_dir=cache, warm=False,
                                       **_smooth_params(smoothing))
        if spec.max_images:
            for ds in (self.photos, self.cartoons):
                ds.files = ds.files[: spec.max_images]
        if spec.max_cartoons:  # how a style's image count is varied (benchmarks/finetune.py)
            self.cartoons.files = self.cartoons.files[: spec.max_cartoons]
        if spec.check_style and not synthetic:  # the checks judge a user's folder, not toonkit's own demo set
            from toonkit.data.checks import StyleFolderError, style_folder_problems

            problems = style_folder_problems(self.cartoons.files, self.photos.files, spec.size)
            if problems:
                raise StyleFolderError("\n".join(f"{recipe.source}: data.cartoons ({cartoons}): {p}"
                                                  for p in problems))
        if dist.is_main and self.cartoons.cache is not None:  # after the checks and cuts: only what trains
            n = self.cartoons.cache.warm(self.cartoons.files)
            if n:
                log.info("cached %d edge-smoothed cartoons in %s", n, self.cartoons.cache.root)
        if self.photos.missing_masks:  # build the teacher (a net, maybe a download) only when it has work
            require_masks(self.photos, teacher=_teacher(spec.mask_teacher),
                          cache_dir=teacher_dir if spec.mask_teacher else None)
        self.skipped = list(self.photos.skipped) + list(self.cartoons.skipped)
        self._fixed = copy.copy(self.photos)
        self._fixed.train = False  # sample grids: centre crops, no flips
        self._datasets: dict[str, Any] = {"photos": self.photos, "cartoons": self.cartoons,
                          "unpaired": UnpairedDataset(self.photos, self.cartoons)}

    def _sampler(self, kind: str, start: int = 0) -> StepSampler:
        return StepSampler(len(self._datasets[kind]), self.spec.batch_size, self.seed, start,
                           self.dist.rank, self.dist.world_size)

    def steps_per_epoch(self, kind: str) -> int:
        return self._sampler(kind).steps_per_epoch

    def batches(self, kind: str, start_step: int) -> Iterator[dict[str, torch.Tensor]]:
        """Endless batches of ``kind`` beginning at ``start_step`` of the phase."""
        sampler = self._sampler(kind, start_step)
        loader = DataLoader(Seeded(self._datasets[kind]), batch_size=self.spec.batch_size, sampler=sampler,
                            num_workers=self.spec.workers, pin_memory=torch.cuda.is_available(),
                            persistent_workers=False, drop_last=False,
                            # a private generator: creating loaders must not draw from the global RNG
                            generator=torch.Generator().manual_seed(self.seed))
        return iter(loader)

    def sample_batch(self, count: int) -> dict[str, torch.Tensor] | None:
        """A fixed batch of photos (centre crops, no flips) for the sample grids."""
        n = min(count, len(self.photos))
        if n == 0:
            return None
        items = [self._fixed[i] for i in range(n)]
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _smooth_params(block: dict[str, Any] | None) -> dict[str, Any]:
    """The smoothing block's edge-smoothing parameters, as the cartoon dataset names them."""
    if not block:
        return {}
    names = {"low_threshold", "high_threshold", "dilate", "blur"}
    return {k: v for k, v in block.items() if k in names}


def _is_edge_smooth(block: dict[str, Any]) -> bool:
    from toonkit.augment.edge_smooth import EdgeSmooth
    from toonkit.plugins import get_registry

    return get_registry().get("augmenter", block["type"]).factory is EdgeSmooth


def _teacher(block: dict[str, Any] | None) -> Any:
    """The mask teacher (a masker, eval mode) of a ``data.mask_teacher`` block, or None."""
    if not block:
        return None
    from toonkit.methods.assemble import build_block

    return build_block("masker", block).eval()


def _barrier(dist: DistInfo) -> None:
    if dist.enabled:
        torch.distributed.barrier()
