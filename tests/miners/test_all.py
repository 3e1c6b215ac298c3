"""AllMiner against brute-force enumeration of every valid tuple."""

from __future__ import annotations

import itertools

import torch

from clothret.miners import AllMiner

ITEMS = torch.tensor([0, 0, 1, 1, 1, 2, 3, 3])
CATS = torch.tensor([0, 0, 0, 0, 0, 1, 1, -1])


def emb(n: int = 8) -> torch.Tensor:
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(0))


def as_set(*index_tensors) -> set[tuple[int, ...]]:
    return set(zip(*(t.tolist() for t in index_tensors), strict=True))


def test_triplets_are_every_valid_triplet():
    got = AllMiner().triplets(emb(), ITEMS)
    n = len(ITEMS)
    want = {
        (a, p, q)
        for a, p, q in itertools.product(range(n), repeat=3)
        if a != p and ITEMS[a] == ITEMS[p] and ITEMS[q] != ITEMS[a]
    }
    assert as_set(*got) == want and len(got[0]) == len(want)


def test_triplets_respect_anchors_and_candidates():
    anchors = torch.tensor([2, 6])
    candidates = torch.tensor([1, 1, 0, 1, 1, 1, 1, 0], dtype=torch.bool)
    got = AllMiner().triplets(emb(), ITEMS, anchors=anchors, candidates=candidates)
    want = {
        (a, p, q)
        for a in anchors.tolist()
        for p, q in itertools.product(range(8), repeat=2)
        if a != p and candidates[p] and candidates[q] and ITEMS[a] == ITEMS[p] != ITEMS[q]
    }
    assert as_set(*got) == want and want  # anchor 6's only positive (7) is not a candidate


def test_quadruplets_are_every_valid_quadruplet():
    got = AllMiner().quadruplets(emb(), ITEMS, CATS)
    n = len(ITEMS)
    want = set()
    for a, p, n1, n2 in itertools.product(range(n), repeat=4):
        known = CATS[a] >= 0 and CATS[n1] >= 0 and CATS[n2] >= 0
        if (
            a != p
            and ITEMS[p] == ITEMS[a]
            and known
            and ITEMS[n1] != ITEMS[a]
            and CATS[n1] == CATS[a]
            and ITEMS[n2] != ITEMS[a]
            and CATS[n2] != CATS[a]
        ):
            want.add((a, p, n1, n2))
    assert as_set(*got) == want and len(got[0]) == len(want) and want


def test_pairs_hold_each_unordered_pair_once():
    i, j, similar = AllMiner().pairs(emb(), ITEMS)
    pairs = {frozenset(p) for p in zip(i.tolist(), j.tolist(), strict=True)}
    assert len(pairs) == len(i) == 8 * 7 // 2
    for a, b, s in zip(i.tolist(), j.tolist(), similar.tolist(), strict=True):
        assert s == bool(ITEMS[a] == ITEMS[b])


def test_pairs_with_anchor_subset_cover_pairs_touching_an_anchor():
    anchors = torch.tensor([0, 1, 5])
    i, j, _ = AllMiner().pairs(emb(), ITEMS, anchors=anchors)
    got = [frozenset(p) for p in zip(i.tolist(), j.tolist(), strict=True)]
    want = {frozenset((a, b)) for a in anchors.tolist() for b in range(8) if a != b}
    assert set(got) == want and len(got) == len(want)
    assert set(i.tolist()) <= set(anchors.tolist())
