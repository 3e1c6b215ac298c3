"""quadruplet sampler: same-category other items and other-category items in every batch."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from clothret.datamodules.samplers.quadruplet import QuadrupletSampler
from clothret.errors import ConfigError, DataError

from .conftest import batches_of, labels

SIZES = [2, 3, 4, 5, 2, 2, 6, 3, 4, 2, 1, 3, 5, 2, 4, 3, 2, 2]


@pytest.mark.parametrize(("batch_size", "k", "m"), [(8, 2, 2), (12, 2, 3), (24, 3, 2)])
def test_batch_holds_category_blocks(batch_size: int, k: int, m: int) -> None:
    items, categories, _ = labels(SIZES, categories=4)
    sampler = QuadrupletSampler(items, categories, batch_size, k=k, items_per_category=m, seed=2)
    batches = batches_of(sampler)
    assert batches
    for batch in batches:
        per_item = Counter(items[i] for i in batch)
        assert set(per_item.values()) == {k}
        items_of = defaultdict(set)
        for i in batch:
            items_of[categories[i]].add(items[i])
        assert len(items_of) == batch_size // k // m >= 2
        assert all(len(v) == m for v in items_of.values())
        for item in per_item:  # the guarantee, checked per item by brute force
            category = item % 4
            assert any(o != item and o % 4 == category for o in per_item)
            assert any(o % 4 != category for o in per_item)


def test_deterministic_and_epoch_dependent() -> None:
    items, categories, _ = labels(SIZES, categories=4)
    a = QuadrupletSampler(items, categories, 8, seed=3)
    b = QuadrupletSampler(items, categories, 8, seed=3)
    assert batches_of(a) == batches_of(b)
    b.set_epoch(4)
    assert batches_of(a) != batches_of(b)


def test_shape_errors() -> None:
    items, categories, _ = labels(SIZES, categories=4)
    with pytest.raises(ConfigError, match="C >= 2 categories"):
        QuadrupletSampler(items, categories, 4, k=2, items_per_category=2)
    with pytest.raises(ConfigError, match="C >= 2 categories"):
        QuadrupletSampler(items, categories, 12, k=2, items_per_category=4)
    one_category = np.zeros_like(categories)
    with pytest.raises(DataError, match="needs C=2 categories"):
        QuadrupletSampler(items, one_category, 8)
