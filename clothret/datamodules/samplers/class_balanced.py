"""Category-balanced sampling with replacement, for the classification / multi-label presets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clothret.datamodules.samplers.base import EpochSampler
from clothret.errors import ConfigError
from clothret.registry import register


@register("sampler", "class_balanced")
class ClassBalancedSampler(EpochSampler):
    """Draw images with probability ∝ (size of their category)^-power, with replacement.

    ``power=1`` gives every category the same expected share of an epoch, ``0.5`` a square-root
    compromise, ``0`` uniform sampling. Draws, not images, are split between processes: each
    process gets a disjoint share of the epoch's draw positions.

    Args:
        categories: category id of every dataset index.
        batch_size: images per batch.
        power: exponent of the inverse category frequency.
        epoch_size: draws per epoch over all processes (default: the number of images).
        seed, num_replicas, rank: see :class:`EpochSampler`.
    """

    def __init__(
        self,
        categories: Sequence[int],
        batch_size: int,
        power: float = 1.0,
        epoch_size: int | None = None,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, num_replicas, rank)
        if power < 0:
            raise ConfigError(f"Sampler 'class_balanced': power={power} must be >= 0.")
        categories = np.asarray(categories)
        _, inverse, counts = np.unique(categories, return_inverse=True, return_counts=True)
        weights = counts[inverse].astype(np.float64) ** -float(power)
        self.weights = weights / weights.sum()
        self.epoch_size = len(categories) if epoch_size is None else int(epoch_size)
        self.check_nonempty(f"epoch_size={self.epoch_size}")

    def plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        draws = self.epoch_size // self.batch_size * self.batch_size
        chosen = rng.choice(len(self.weights), size=draws, replace=True, p=self.weights)
        return list(chosen.reshape(-1, self.batch_size))
