"""RandomMiner draws valid, reproducible tuples that cover every valid partner over calls."""

from __future__ import annotations

import torch

from clothret.miners import RandomMiner

ITEMS = torch.tensor([0, 0, 0, 1, 1, 2, 3])
CATS = torch.tensor([0, 0, 0, 0, 0, 1, 1])
X = torch.randn(7, 3, generator=torch.Generator().manual_seed(3))


def test_triplets_are_valid_one_per_anchor_and_cover_all_partners():
    miner = RandomMiner(seed=5)
    seen_p, seen_n = set(), set()
    for _ in range(200):
        a, p, n = miner.triplets(X, ITEMS)
        assert a.tolist() == [0, 1, 2, 3, 4]  # anchors with a positive, once each
        for i, j, q in zip(a.tolist(), p.tolist(), n.tolist(), strict=True):
            assert i != j and ITEMS[j] == ITEMS[i] and ITEMS[q] != ITEMS[i]
            if i == 0:
                seen_p.add(j)
                seen_n.add(q)
    assert seen_p == {1, 2} and seen_n == {3, 4, 5, 6}


def test_same_seed_same_tuples_and_calls_differ():
    first, second = RandomMiner(seed=7), RandomMiner(seed=7)
    draws = [first.triplets(X, ITEMS) for _ in range(5)]
    again = [second.triplets(X, ITEMS) for _ in range(5)]
    for u, v in zip(draws, again, strict=True):
        assert all(torch.equal(s, t) for s, t in zip(u, v, strict=True))
    assert any(not torch.equal(draws[0][2], d[2]) for d in draws[1:])


def test_call_counter_is_saved_in_state_dict():
    miner = RandomMiner(seed=1)
    for _ in range(3):
        miner.triplets(X, ITEMS)
    resumed = RandomMiner(seed=1)
    resumed.load_state_dict(miner.state_dict())
    assert all(
        torch.equal(s, t)
        for s, t in zip(miner.triplets(X, ITEMS), resumed.triplets(X, ITEMS), strict=True)
    )


def test_quadruplets_respect_constraints():
    miner = RandomMiner()
    for _ in range(50):
        a, p, n1, n2 = miner.quadruplets(X, ITEMS, CATS)
        assert a.tolist() == [0, 1, 2, 3, 4]
        for i, j, q1, q2 in zip(a.tolist(), p.tolist(), n1.tolist(), n2.tolist(), strict=True):
            assert i != j and ITEMS[j] == ITEMS[i]
            assert ITEMS[q1] != ITEMS[i] and CATS[q1] == CATS[i]
            assert ITEMS[q2] != ITEMS[i] and CATS[q2] != CATS[i]


def test_pairs_are_balanced_per_anchor():
    i, j, similar = RandomMiner().pairs(X, ITEMS)
    assert similar.sum().item() == 5 and (~similar).sum().item() == 7
    for a, b, s in zip(i.tolist(), j.tolist(), similar.tolist(), strict=True):
        assert a != b and s == bool(ITEMS[a] == ITEMS[b])
