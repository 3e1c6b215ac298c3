"""SemiHardMiner returns, per positive pair, the closest negative inside the semi-hard window."""

from __future__ import annotations

import math

import pytest
import torch

from clothret.errors import ConfigError
from clothret.miners import SemiHardMiner

ITEMS = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3, 4, 5, 5])
CATS = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 2, 2])


def setup():
    x = torch.randn(len(ITEMS), 2, generator=torch.Generator().manual_seed(2))
    d = [[math.dist(u.tolist(), v.tolist()) for v in x] for u in x]
    return x, d


def closest_in_window(d, a, candidates, low, margin):
    inside = [c for c in candidates if low < d[a][c] < low + margin]
    return min(inside, key=lambda c: d[a][c]) if inside else None


@pytest.mark.parametrize("margin", [0.3, 1.0])
def test_triplets_are_closest_semi_hard_negatives(margin):
    x, d = setup()
    a, p, n = SemiHardMiner().triplets(x, ITEMS, margin=margin)
    want = []
    for i in range(len(ITEMS)):
        neg = [j for j in range(len(ITEMS)) if ITEMS[j] != ITEMS[i]]
        for j in range(len(ITEMS)):
            if j != i and ITEMS[j] == ITEMS[i]:
                q = closest_in_window(d, i, neg, d[i][j], margin)
                if q is not None:
                    want.append((i, j, q))
    got = list(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    assert got == want and want
    for i, j, q in got:  # the semi-hard conditions themselves
        assert d[i][j] < d[i][q] < d[i][j] + margin


def test_own_margin_overrides_the_loss_margin():
    x, _ = setup()
    wide = SemiHardMiner().triplets(x, ITEMS, margin=10.0)
    narrow = SemiHardMiner(margin=0.05).triplets(x, ITEMS, margin=10.0)
    assert len(narrow[0]) < len(wide[0])


def test_quadruplets_follow_both_windows():
    x, d = setup()
    m1, m2 = 0.8, 1.5
    a, p, n1, n2 = SemiHardMiner().quadruplets(x, ITEMS, CATS, margin_id=m1, margin_class=m2)
    want = []
    for i in range(len(ITEMS)):
        other = [j for j in range(len(ITEMS)) if ITEMS[j] != ITEMS[i]]
        neg1 = [j for j in other if CATS[j] == CATS[i]]
        neg2 = [j for j in other if CATS[j] != CATS[i]]
        for j in range(len(ITEMS)):
            if j == i or ITEMS[j] != ITEMS[i]:
                continue
            q1 = closest_in_window(d, i, neg1, d[i][j], m1)
            q2 = None if q1 is None else closest_in_window(d, i, neg2, d[i][q1], m2)
            if q2 is not None:
                want.append((i, j, q1, q2))
    got = list(zip(a.tolist(), p.tolist(), n1.tolist(), n2.tolist(), strict=True))
    assert got == want and want
    for i, _, q1, q2 in got:
        assert ITEMS[q1] != ITEMS[i] and CATS[q1] == CATS[i] and CATS[q2] != CATS[i]


def test_pairs_are_not_defined():
    x, _ = setup()
    with pytest.raises(ConfigError, match="not pairs"):
        SemiHardMiner().pairs(x, ITEMS)
