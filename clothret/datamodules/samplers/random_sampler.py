"""Uniform shuffling, split across processes without overlap."""

from __future__ import annotations

import numpy as np

from clothret.datamodules.samplers.base import EpochSampler
from clothret.registry import register


@register("sampler", "random")
class RandomSampler(EpochSampler):
    """A fresh permutation of the training images each epoch, in full batches.

    Args:
        num_samples: number of images in the training dataset.
        batch_size: images per batch.
        seed, num_replicas, rank: see :class:`EpochSampler`.
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, num_replicas, rank)
        self.num_samples = int(num_samples)
        self.check_nonempty("random order")

    def plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        full = self.num_samples // self.batch_size * self.batch_size
        return list(rng.permutation(self.num_samples)[:full].reshape(-1, self.batch_size))
