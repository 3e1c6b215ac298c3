"""P×K batches that always hold same-category other items and other-category items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from clothret.datamodules.samplers.base import EpochSampler, warn_once
from clothret.datamodules.samplers.grouping import (
    indices_by_key,
    pack_distinct,
    split_groups,
    spread_order,
)
from clothret.datamodules.samplers.pk import check_pk
from clothret.errors import ConfigError, DataError
from clothret.registry import register


@register("sampler", "quadruplet")
class QuadrupletSampler(EpochSampler):
    """Batches of C categories × m items × k images (C·m·k = batch_size, C >= 2, m >= 2).

    Every item in a batch therefore has ``m - 1`` other items of its category (the
    same-category negatives of the quadruplet loss) and ``(C - 1)·m`` items of other categories.
    Items are grouped as in ``pk``; categories with fewer than ``m`` items cannot supply the
    in-category negatives and are left out (reported once).

    Args:
        item_ids: item id of every dataset index.
        categories: category id of every dataset index (an item's most frequent one is used).
        batch_size: images per batch.
        k: images per item.
        items_per_category: m, items of one category in a batch.
        seed, num_replicas, rank: see :class:`EpochSampler`.
    """

    def __init__(
        self,
        item_ids: Sequence[int],
        categories: Sequence[int],
        batch_size: int,
        k: int = 2,
        items_per_category: int = 2,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, num_replicas, rank)
        self.k, self.m = int(k), int(items_per_category)
        p = check_pk("quadruplet", batch_size, self.k)
        if self.m < 2 or p % self.m or p // self.m < 2:
            raise ConfigError(
                f"Sampler 'quadruplet': P={p} items per batch must be C×items_per_category with "
                f"C >= 2 categories and items_per_category={self.m} >= 2; change batch_size, k "
                "or items_per_category."
            )
        self.c = p // self.m
        self.items = indices_by_key(item_ids)
        categories = np.asarray(categories)
        item_category = {
            item: Counter(categories[idx].tolist()).most_common(1)[0][0]
            for item, idx in self.items.items()
        }
        by_category: dict[int, list[int]] = {}
        for item, category in item_category.items():
            by_category.setdefault(category, []).append(item)
        self.categories = {c: items for c, items in by_category.items() if len(items) >= self.m}
        left_out = sum(len(v) for c, v in by_category.items() if c not in self.categories)
        if left_out:
            warn_once(
                f"Sampler 'quadruplet': {left_out} items are in categories with fewer than "
                f"items_per_category={self.m} items and are not sampled."
            )
        if len(self.categories) < self.c:
            raise DataError(
                f"Sampler 'quadruplet' needs C={self.c} categories with at least {self.m} items "
                f"each, found {len(self.categories)}; lower batch_size or items_per_category."
            )
        self.check_nonempty(f"C={self.c} categories × m={self.m} items × k={self.k}")

    def plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        units, unit_owner = [], []  # a unit: m groups of different items of one category
        for category, items in self.categories.items():
            groups, owners = [], []
            for item in items:
                for group in split_groups(self.items[item], self.k, rng):
                    groups.append(group)
                    owners.append(item)
            counts = Counter(owners)
            per_item = [counts[i] for i in dict.fromkeys(owners)]
            order = spread_order(per_item, rng)
            for pack in pack_distinct([owners[i] for i in order], self.m):
                units.append(np.concatenate([groups[order[i]] for i in pack]))
                unit_owner.append(category)
        counts = Counter(unit_owner)
        per_category = [counts[c] for c in dict.fromkeys(unit_owner)]
        order = spread_order(per_category, rng)
        packs = pack_distinct([unit_owner[i] for i in order], self.c)
        return [np.concatenate([units[order[i]] for i in pack]) for pack in packs]
