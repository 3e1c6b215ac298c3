"""class_balanced sampler: category frequencies follow size^(1 - power)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from clothret.datamodules.samplers.class_balanced import ClassBalancedSampler

from .conftest import batches_of


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_category_shares_match_the_formula(power: float) -> None:
    sizes = {0: 300, 1: 30, 2: 3}
    categories = np.repeat(list(sizes), list(sizes.values()))
    sampler = ClassBalancedSampler(categories, 50, power=power, epoch_size=30000, seed=0)
    drawn = Counter(categories[i] for b in batches_of(sampler) for i in b)
    total = sum(n ** (1 - power) for n in sizes.values())  # each image weighs n^-power
    for category, n in sizes.items():
        expected = n ** (1 - power) / total
        assert abs(drawn[category] / 30000 - expected) < 0.015, (category, power)


def test_default_epoch_size_and_determinism() -> None:
    categories = np.array([0] * 10 + [1] * 3)
    sampler = ClassBalancedSampler(categories, 4, seed=1)
    assert len(sampler) == 12
    assert batches_of(sampler) == batches_of(ClassBalancedSampler(categories, 4, seed=1))
