"""pk sampler: P distinct items × K images per batch, every image once per epoch."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pytest

from clothret.datamodules.samplers.base import warn_once
from clothret.datamodules.samplers.pk import PKSampler
from clothret.errors import ConfigError, DataError

from .conftest import batches_of, labels

SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 4, 4, 2, 3, 8, 5]


def test_every_batch_is_p_items_times_k_images() -> None:
    items, _, _ = labels(SIZES)
    sampler = PKSampler(items, batch_size=12, k=3, seed=1)
    batches = batches_of(sampler)
    assert len(batches) >= 5
    for batch in batches:
        per_item = Counter(items[i] for i in batch)
        assert len(per_item) == 4 and set(per_item.values()) == {3}


def test_each_image_in_one_group_and_small_items_repeat_their_own() -> None:
    items, _, _ = labels(SIZES)
    sampler = PKSampler(items, batch_size=8, k=4, seed=0, num_replicas=1, rank=0)
    used = [i for batch in batches_of(sampler) for i in batch]
    groups = [used[i : i + 4] for i in range(0, len(used), 4)]
    seen: dict[int, int] = {}
    for n, group in enumerate(groups):
        assert len({items[i] for i in group}) == 1
        for index in set(group):
            assert seen.setdefault(index, n) == n  # an image never appears in two groups
    # 26 groups pack into 13 batches of P=2 with none left over: every image is used.
    assert len(groups) == sum(-(-s // 4) for s in SIZES) == 26
    assert set(seen) == set(range(len(items)))


def test_same_seed_same_batches_and_set_epoch_reshuffles() -> None:
    items, _, _ = labels(SIZES)
    a, b = PKSampler(items, 8, k=2, seed=5), PKSampler(items, 8, k=2, seed=5)
    assert batches_of(a) == batches_of(b)
    first = batches_of(a)
    a.set_epoch(1)
    assert batches_of(a) != first
    a.set_epoch(0)
    assert batches_of(a) == first
    assert batches_of(PKSampler(items, 8, k=2, seed=6)) != first


def test_small_items_are_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    warn_once.cache_clear()
    items, _, _ = labels(SIZES)
    with caplog.at_level(logging.WARNING):
        PKSampler(items, 8, k=4)
        PKSampler(items, 8, k=4)
    messages = [r.getMessage() for r in caplog.records if "fewer than k=4" in r.getMessage()]
    assert messages == [
        f"Sampler 'pk': {sum(s < 4 for s in SIZES)} of {len(SIZES)} training "
        "items have fewer than k=4 images; their images are sampled with "
        "replacement."
    ]


def test_batch_shape_errors() -> None:
    items, _, _ = labels(SIZES)
    with pytest.raises(ConfigError, match="batch_size=10 must be P×k"):
        PKSampler(items, 10, k=4)
    with pytest.raises(DataError, match="needs at least P=20 items"):
        PKSampler(items, 40, k=2)
    with pytest.raises(DataError, match="no full batch"):
        PKSampler(np.repeat([0, 1], 2), 4, k=2, num_replicas=2, rank=0)
