"""domain_pairs sampler: every item in a batch has consumer and shop images."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from clothret.datamodules.samplers.domain_pairs import DomainPairSampler
from clothret.errors import ConfigError, DataError
from clothret.keys import DOMAIN_CONSUMER, DOMAIN_SHOP

from .conftest import batches_of, labels

SIZES = [2, 3, 4, 5, 1, 6, 2, 7, 3, 2, 1, 4]  # items of one image have a single domain


@pytest.mark.parametrize("k", [2, 4])
def test_each_item_has_half_consumer_half_shop(k: int) -> None:
    items, _, domains = labels(SIZES)
    sampler = DomainPairSampler(items, domains, batch_size=3 * k, k=k, seed=0)
    batches = batches_of(sampler)
    assert batches
    for batch in batches:
        assert len({items[i] for i in batch}) == 3
        for item in {items[i] for i in batch}:
            got = Counter(int(domains[i]) for i in batch if items[i] == item)
            assert got == {DOMAIN_CONSUMER: k // 2, DOMAIN_SHOP: k // 2}
    sampled = {items[i] for b in batches for i in b}
    assert not sampled & {4, 10}  # single-image items cannot pair


def test_errors() -> None:
    items, _, domains = labels(SIZES)
    with pytest.raises(ConfigError, match="must be even"):
        DomainPairSampler(items, domains, 9, k=3)
    with pytest.raises(DataError, match="needs P=11 items with both"):  # 10 items qualify
        DomainPairSampler(items, domains, 22, k=2)
    with pytest.raises(DataError, match="with both consumer and shop"):
        DomainPairSampler(items, np.zeros_like(domains), 4, k=2)
