"""P×K batches in which every item has both a consumer and a shop image (street-to-shop)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from clothret.datamodules.samplers.base import EpochSampler, warn_once
from clothret.datamodules.samplers.grouping import fill, indices_by_key
from clothret.datamodules.samplers.pk import check_pk, pack_groups
from clothret.errors import ConfigError, DataError
from clothret.keys import DOMAIN_CONSUMER, DOMAIN_SHOP
from clothret.registry import register


@register("sampler", "domain_pairs")
class DomainPairSampler(EpochSampler):
    """Batches of P items, each with k/2 consumer and k/2 shop images.

    Per item and epoch, each domain's images are shuffled into the same number of near-equal
    parts (set by the scarcer domain), cut or completed with replacement to k/2, and paired.
    Items without images in both domains cannot form pairs and are left out (reported once).

    Args:
        item_ids: item id of every dataset index.
        domains: domain of every dataset index (0 shop, 1 consumer).
        batch_size: images per batch (P×k).
        k: images per item, even: k/2 from each domain.
        seed, num_replicas, rank: see :class:`EpochSampler`.
    """

    def __init__(
        self,
        item_ids: Sequence[int],
        domains: Sequence[int],
        batch_size: int,
        k: int = 2,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, num_replicas, rank)
        if int(k) < 2 or int(k) % 2:
            raise ConfigError(f"Sampler 'domain_pairs': k={k} must be even (k/2 per domain).")
        self.k, self.p = int(k), check_pk("domain_pairs", batch_size, int(k))
        domains = np.asarray(domains)
        self.items: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for item, idx in indices_by_key(item_ids).items():
            consumer, shop = idx[domains[idx] == DOMAIN_CONSUMER], idx[domains[idx] == DOMAIN_SHOP]
            if len(consumer) and len(shop):
                self.items[item] = (consumer, shop)
        left_out = len(np.unique(np.asarray(item_ids))) - len(self.items)
        if left_out:
            warn_once(
                f"Sampler 'domain_pairs': {left_out} training items lack a consumer or a shop "
                "image and are not sampled."
            )
        if len(self.items) < self.p:
            raise DataError(
                f"Sampler 'domain_pairs' needs P={self.p} items with both consumer and shop "
                f"images, found {len(self.items)}; lower batch_size."
            )
        self.check_nonempty(f"P={self.p} items × k={self.k}")

    def plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        half, groups, owners = self.k // 2, [], []
        for item, (consumer, shop) in self.items.items():
            m = max(1, math.ceil(min(len(consumer), len(shop)) / half))
            parts = zip(
                np.array_split(rng.permutation(consumer), m),
                np.array_split(rng.permutation(shop), m),
                strict=True,
            )
            groups.append(
                [np.concatenate([fill(c, half, rng), fill(s, half, rng)]) for c, s in parts]
            )
            owners.append(item)
        return pack_groups(groups, owners, self.p, rng)
