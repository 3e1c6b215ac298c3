"""P items × K images per batch, the batch shape of triplet / batch-hard metric learning."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clothret.datamodules.samplers.base import EpochSampler, warn_once
from clothret.datamodules.samplers.grouping import (
    indices_by_key,
    pack_distinct,
    split_groups,
    spread_order,
)
from clothret.errors import ConfigError, DataError
from clothret.registry import register


def check_pk(name: str, batch_size: int, k: int) -> int:
    """P for a batch of P×K images; a batch size that is not a multiple of K is an error."""
    if k < 1 or batch_size % k or batch_size // k < 2:
        raise ConfigError(
            f"Sampler {name!r}: batch_size={batch_size} must be P×k with P >= 2 items and "
            f"k={k}; set data.batch_size to a multiple of k that is at least 2k."
        )
    return batch_size // k


@register("sampler", "pk")
class PKSampler(EpochSampler):
    """Batches of P distinct items with K images each (P = batch_size / k).

    Each epoch every training image is used once: an item's images are shuffled into
    ceil(n/k) near-equal groups, each completed to k by sampling the group's images with
    replacement (items with fewer than k images are reported once). Groups are spread over the
    epoch and packed into batches of P groups of different items.

    Args:
        item_ids: item id of every dataset index.
        batch_size: images per batch (P×k).
        k: images per item in a batch.
        seed, num_replicas, rank: see :class:`EpochSampler`.
    """

    def __init__(
        self,
        item_ids: Sequence[int],
        batch_size: int,
        k: int = 4,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, num_replicas, rank)
        self.k, self.p = int(k), check_pk("pk", batch_size, int(k))
        self.items = indices_by_key(item_ids)
        if len(self.items) < self.p:
            raise DataError(
                f"Sampler 'pk' needs at least P={self.p} items for a batch of {batch_size} "
                f"(k={k}), but the training split has {len(self.items)}; lower batch_size."
            )
        small = sum(len(v) < self.k for v in self.items.values())
        if small:
            warn_once(
                f"Sampler 'pk': {small} of {len(self.items)} training items have fewer than "
                f"k={self.k} images; their images are sampled with replacement."
            )
        self.check_nonempty(f"P={self.p} items × k={self.k}")

    def plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        groups, owners = [], []
        for item, indices in self.items.items():
            parts = split_groups(indices, self.k, rng)
            groups.append(parts)
            owners.append(item)
        return pack_groups(groups, owners, self.p, rng)


def pack_groups(
    groups: list[list[np.ndarray]], owners: list[int], size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Spread the owners' groups over the epoch and pack ``size`` of different owners per batch."""
    flat = [g for parts in groups for g in parts]
    keys = [o for o, parts in zip(owners, groups, strict=True) for _ in parts]
    order = spread_order([len(parts) for parts in groups], rng)
    packs = pack_distinct([keys[i] for i in order], size)
    return [np.concatenate([flat[order[i]] for i in pack]) for pack in packs]
