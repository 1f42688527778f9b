"""An infinite, resumable, rank-aware sampler: the data a step sees depends only on (seed, step).

Each index comes with a per-sample seed; :class:`Seeded` seeds the global RNGs with it before calling the
wrapped dataset, so random crops and flips are reproducible whatever the worker count, and a resumed run
continues with exactly the batches the uninterrupted run would have drawn.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from torch.utils.data import Dataset, Sampler

from toonkit.core.runtime import seeded


class StepSampler(Sampler[tuple[int, int]]):
    """Yields ``(index, sample_seed)`` forever, one global batch after another, starting at a step.

    Args:
        length: number of items per epoch (the larger domain for unpaired data).
        batch_size: per-process batch size.
        seed: run seed.
        start_step: first step to produce (resume).
        rank, world_size: this process's slice of every global batch.
    """

    def __init__(self, length: int, batch_size: int, seed: int, start_step: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        self.length, self.batch_size, self.seed = length, batch_size, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world_size

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.length // self.global_batch)

    def _perm(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch])
        need = self.steps_per_epoch * self.global_batch
        reps = -(-need // self.length)  # tiny sets: repeat so an epoch still fills whole batches
        return np.concatenate([rng.permutation(self.length) for _ in range(reps)])[:need]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        step = self.start_step
        while True:
            epoch, within = divmod(step, self.steps_per_epoch)
            perm = self._perm(epoch)
            lo = within * self.global_batch + self.rank * self.batch_size
            for j, idx in enumerate(perm[lo: lo + self.batch_size]):
                yield int(idx), int(np.random.default_rng([self.seed, step, self.rank, j]).integers(2**31))
            step += 1

    def __len__(self) -> int:  # DataLoader wants one; the stream is infinite
        return 2**62


class Seeded(Dataset):
    """Calls ``dataset[index]`` with all global RNGs seeded by the sample's seed."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]) -> Any:
        index, seed = item
        with seeded(seed):
            return self.dataset[index]
