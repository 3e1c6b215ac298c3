"""Cross-device mining: a 2-process gloo run sees the other rank's embeddings."""

from __future__ import annotations

import math

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from clothret import keys
from clothret.losses import ContrastiveHashLoss, QuadrupletLoss, TripletLoss
from clothret.losses import functional as F
from clothret.losses.distributed import gather_batch, is_distributed

# Ranks hold 6 and 4 rows. Items 0-3 have one image per rank, so no rank finds a positive locally.
ITEMS = torch.tensor([0, 1, 2, 3, 4, 5, 0, 1, 2, 3])
CATS = torch.tensor([0, 0, 1, 1, 0, 1, 0, 0, 1, 1])
SLICES = [range(0, 6), range(6, 10)]
X = torch.randn(10, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_gather_without_process_group_returns_inputs():
    assert not is_distributed()
    x, labels = torch.randn(3, 2), torch.tensor([1, 2, 3])
    emb, (got,), local = gather_batch(x, labels)
    assert emb is x and got is labels and local.tolist() == [0, 1, 2]


def _worker(rank: int, store: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    rows = list(SLICES[rank])
    x = X[rows].clone().requires_grad_()
    batch = {keys.ITEM_ID: ITEMS[rows], keys.CATEGORY: CATS[rows]}
    outputs = {keys.EMBEDDING: x, keys.HASH: torch.tanh(x)}
    result = {}
    for name, loss in {
        "triplet": TripletLoss(margin=0.5, cross_device=True),
        "triplet_local": TripletLoss(margin=0.5),
        "quadruplet": QuadrupletLoss(miner="all", cross_device=True),
        "hash": ContrastiveHashLoss(cross_device=True),
    }.items():
        x.grad = None
        value = loss(outputs, batch)
        value.backward()
        result[name] = (value.detach(), x.grad.clone())
    torch.save(result, out.format(rank=rank))
    dist.destroy_process_group()


def batch_hard_reference(rows: list[int], margin: float) -> torch.Tensor:
    """Loss of the given anchors on the whole batch, triplets chosen by explicit loops."""
    d = [[math.dist(u.tolist(), v.tolist()) for v in X] for u in X]
    a, p, n = [], [], []
    for i in rows:
        pos = [j for j in range(10) if j != i and ITEMS[j] == ITEMS[i]]
        neg = [j for j in range(10) if ITEMS[j] != ITEMS[i]]
        if pos:
            a.append(i)
            p.append(max(pos, key=lambda j: d[i][j]))
            n.append(min(neg, key=lambda j: d[i][j]))
    x = X.clone().requires_grad_()
    value = F.triplet(x[a], x[p], x[n], margin=margin)
    value.backward()
    return value.detach(), x.grad


@pytest.mark.slow
def test_cross_device_mining_sees_the_other_rank(tmp_path):
    out = str(tmp_path / "rank{rank}.pt")
    mp.spawn(_worker, args=(str(tmp_path / "store"), out), nprocs=2, join=True)
    results = [torch.load(out.format(rank=r)) for r in range(2)]
    full = {keys.EMBEDDING: X, keys.HASH: torch.tanh(X)}
    batch = {keys.ITEM_ID: ITEMS, keys.CATEGORY: CATS}
    for rank, result in enumerate(results):
        rows = list(SLICES[rank])
        value, grad = result["triplet"]
        want_value, want_grad = batch_hard_reference(rows, 0.5)
        assert value.item() > 0 and value.item() == pytest.approx(want_value.item())
        assert torch.allclose(grad, want_grad[rows])  # gradient of the local slice
        assert result["triplet_local"][0].item() == 0.0  # alone, a rank has no positive
    # With 4 valid anchors on each rank, the ranks' mean is the one-process loss.
    for name, loss in {
        "triplet": TripletLoss(margin=0.5),
        "quadruplet": QuadrupletLoss(miner="all"),
    }.items():
        single = loss(full, batch).item()
        assert sum(r[name][0].item() for r in results) / 2 == pytest.approx(single), name
    # Pairs: every pair with at least one of the rank's rows, each once, on the whole batch.
    h = torch.tanh(X)
    for rank, result in enumerate(results):
        rows = set(SLICES[rank])
        values = []
        for i in range(10):
            for j in range(i + 1, 10):
                if i in rows or j in rows:
                    sq = sum((float(h[i, k]) - float(h[j, k])) ** 2 for k in range(3))
                    reg = sum(abs(abs(float(h[r, k])) - 1) for r in (i, j) for k in range(3))
                    pair = 0.5 * sq if ITEMS[i] == ITEMS[j] else 0.5 * max(6 - sq, 0.0)
                    values.append(pair + 0.01 * reg)
        assert len(values) == [15 + 24, 6 + 24][rank]
        assert result["hash"][0].item() == pytest.approx(sum(values) / len(values))
