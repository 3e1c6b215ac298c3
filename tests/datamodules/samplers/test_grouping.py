"""Grouping steps of the identity samplers."""

from __future__ import annotations

from collections import Counter

import numpy as np

from clothret.datamodules.samplers.grouping import (
    fill,
    indices_by_key,
    pack_distinct,
    split_groups,
    spread_order,
)


def test_indices_by_key() -> None:
    groups = indices_by_key([3, 1, 3, 2, 1, 3])
    assert {k: v.tolist() for k, v in groups.items()} == {1: [1, 4], 2: [3], 3: [0, 2, 5]}


def test_split_groups_partition_and_completion() -> None:
    rng = np.random.default_rng(0)
    for n in range(1, 15):
        indices = np.arange(100, 100 + n)
        groups = split_groups(indices, 4, rng)
        assert len(groups) == -(-n // 4) and all(len(g) == 4 for g in groups)
        distinct = [set(g.tolist()) for g in groups]
        assert set().union(*distinct) == set(indices.tolist())  # every index used
        assert sum(len(d) for d in distinct) == n  # no index in two groups


def test_fill_cuts_or_repeats_from_the_part() -> None:
    rng = np.random.default_rng(0)
    assert fill(np.array([1, 2, 3]), 2, rng).tolist() == [1, 2]
    filled = fill(np.array([7, 8]), 5, rng)
    assert len(filled) == 5 and set(filled.tolist()) <= {7, 8} and filled[:2].tolist() == [7, 8]


def test_pack_distinct_defers_repeats_and_drops_leftovers() -> None:
    keys = ["a", "a", "b", "c", "a", "d", "b"]
    packs = pack_distinct(keys, 3)
    assert packs == [[0, 2, 3], [1, 5, 6]]  # unit 4 ("a") cannot fill a third pack
    for pack in packs:
        assert len({keys[i] for i in pack}) == 3


def test_spread_order_is_a_permutation_spreading_big_owners() -> None:
    counts = [20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    order = spread_order(counts, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(sum(counts)))
    owners = [o for o, m in enumerate(counts) for _ in range(m)]
    first_half = Counter(owners[i] for i in order[: len(order) // 2])
    assert 7 <= first_half[0] <= 13  # owner 0's 20 units are spread over both halves
