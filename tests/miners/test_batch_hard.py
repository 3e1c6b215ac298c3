"""BatchHardMiner picks the hardest partners per anchor, checked against brute force."""

from __future__ import annotations

import math

import torch

from clothret import keys
from clothret.losses import TripletLoss
from clothret.miners import BatchHardMiner

ITEMS = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 4])
CATS = torch.tensor([0, 0, 0, 0, 0, 1, 1, 0, 2])


def setup():
    x = torch.randn(len(ITEMS), 4, generator=torch.Generator().manual_seed(1))
    d = [[math.dist(u.tolist(), v.tolist()) for v in x] for u in x]
    return x, d


def test_triplets_pick_farthest_positive_and_closest_negative():
    x, d = setup()
    a, p, n = BatchHardMiner().triplets(x, ITEMS)
    want = []
    for i in range(len(ITEMS)):
        pos = [j for j in range(len(ITEMS)) if j != i and ITEMS[j] == ITEMS[i]]
        neg = [j for j in range(len(ITEMS)) if ITEMS[j] != ITEMS[i]]
        if pos and neg:
            want.append((i, max(pos, key=lambda j: d[i][j]), min(neg, key=lambda j: d[i][j])))
    assert list(zip(a.tolist(), p.tolist(), n.tolist(), strict=True)) == want
    assert {7, 8}.isdisjoint(a.tolist())  # items 3 and 4 have no positive: skipped


def test_quadruplets_pick_hardest_and_respect_constraints():
    x, d = setup()
    a, p, n1, n2 = BatchHardMiner().quadruplets(x, ITEMS, CATS)
    want = []
    for i in range(len(ITEMS)):
        others = [j for j in range(len(ITEMS)) if ITEMS[j] != ITEMS[i]]
        pos = [j for j in range(len(ITEMS)) if j != i and ITEMS[j] == ITEMS[i]]
        neg1 = [j for j in others if CATS[j] == CATS[i]]
        neg2 = [j for j in others if CATS[j] != CATS[i]]
        if pos and neg1 and neg2:
            want.append(
                (
                    i,
                    max(pos, key=lambda j: d[i][j]),
                    min(neg1, key=lambda j: d[i][j]),
                    min(neg2, key=lambda j: d[i][j]),
                )
            )
    got = list(zip(a.tolist(), p.tolist(), n1.tolist(), n2.tolist(), strict=True))
    assert got == want and len(want) == 5  # item 2 has no same-category negative
    for i, _, q1, q2 in got:
        assert ITEMS[q1] != ITEMS[i] and ITEMS[q2] != ITEMS[i]
        assert CATS[q1] == CATS[i] and CATS[q2] != CATS[i]


def test_pairs_hardest_positive_and_negative_per_anchor():
    x, d = setup()
    i, j, similar = BatchHardMiner().pairs(x, ITEMS)
    got = set(zip(i.tolist(), j.tolist(), similar.tolist(), strict=True))
    want = set()
    for a in range(len(ITEMS)):
        pos = [b for b in range(len(ITEMS)) if b != a and ITEMS[b] == ITEMS[a]]
        neg = [b for b in range(len(ITEMS)) if ITEMS[b] != ITEMS[a]]
        if pos:
            want.add((a, max(pos, key=lambda b: d[a][b]), True))
        want.add((a, min(neg, key=lambda b: d[a][b]), False))
    assert got == want and len(i) == len(want)


def test_batch_without_positives_gives_zero_loss_with_grad():
    x = torch.randn(5, 3, requires_grad=True)
    loss = TripletLoss(miner="batch_hard")({keys.EMBEDDING: x}, {keys.ITEM_ID: torch.arange(5)})
    assert loss.item() == 0.0 and not torch.isnan(loss)
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
