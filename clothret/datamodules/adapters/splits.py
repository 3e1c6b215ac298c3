"""Deterministic item-level splits stratified by category.

Every item goes to exactly one split, so no item is in both training and evaluation. Within each
category the items are shuffled with a generator seeded by ``(seed, crc32(category))``: the split of
one category does not change when other categories are added or removed. Small categories are
filled in priority order (train, gallery, query, ...) so that a category with two items is seen in
training and in the gallery, and a query's category has a gallery image whenever possible.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from clothret.errors import ConfigError

SPLIT_PRIORITY = ("train", "gallery", "query", "val_gallery", "val_query")


def check_fractions(
    fractions: Mapping[str, float], at: str = "split_fractions"
) -> dict[str, float]:
    """Validate split fractions: known split names, non-negative, summing to 1."""
    fractions = {str(k): float(v) for k, v in fractions.items()}
    unknown = [k for k in fractions if k not in SPLIT_PRIORITY]
    if unknown:
        raise ConfigError(
            f"{at} has unknown split {unknown[0]!r}; use {', '.join(SPLIT_PRIORITY)}."
        )
    if any(v < 0 for v in fractions.values()) or abs(sum(fractions.values()) - 1.0) > 1e-6:
        raise ConfigError(f"{at} must be non-negative fractions summing to 1, got {fractions}.")
    return fractions


def allocate(n: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Numbers of items per split for a category of ``n`` items.

    Each split with a positive fraction first gets one item (in :data:`SPLIT_PRIORITY` order,
    while items last); the rest go one by one to the split furthest below its share ``f * n``.
    """
    order = [s for s in SPLIT_PRIORITY if fractions.get(s, 0.0) > 0]
    counts = dict.fromkeys(order, 0)
    for name in order[:n]:
        counts[name] = 1
    for _ in range(n - sum(counts.values())):
        name = max(order, key=lambda s: fractions[s] * n - counts[s])  # first wins ties
        counts[name] += 1
    return counts


def split_items(
    items: pd.Series, categories: pd.Series, fractions: Mapping[str, float], seed: int
) -> pd.Series:
    """Split name per row, assigned per item and stratified by the item's category.

    Args:
        items: item id per row.
        categories: category per row; an item's category is its most frequent one (ties: the
            first by name).
        fractions: split name → fraction of the items (see :func:`check_fractions`).
        seed: seed of the shuffle; the same seed gives the same split.
    """
    fractions = check_fractions(fractions)
    table = pd.DataFrame({"item": items.astype(str), "category": categories.astype(str)})
    counts = table.groupby(["item", "category"]).size().rename("n").reset_index()
    counts = counts.sort_values(["item", "n", "category"], ascending=[True, False, True])
    item_category = counts.drop_duplicates("item").set_index("item")["category"]
    assignment: dict[str, str] = {}
    for category, group in item_category.groupby(item_category, sort=True):
        names = np.array(sorted(group.index))
        rng = np.random.default_rng([seed, zlib.crc32(str(category).encode())])
        names = names[rng.permutation(len(names))]
        start = 0
        for split, count in allocate(len(names), fractions).items():
            assignment.update(dict.fromkeys(names[start : start + count], split))
            start += count
    return table["item"].map(assignment).rename("split")
