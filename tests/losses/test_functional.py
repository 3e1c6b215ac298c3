"""Each formula of clothret.losses.functional against loops written out from its definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.reducers import MeanReducer

from clothret.errors import ConfigError
from clothret.losses import functional as F

# Proportions of the 24 tasks in Table II of the multi-weight CNN paper.
TABLE_II = [
    1.0, 0.9646, 0.8242, 0.7773, 0.6838, 0.6062, 0.6018, 0.4201, 0.3876, 0.3119, 0.2436, 0.2292,
    0.1961, 0.1866, 0.1766, 0.1456, 0.1331, 0.0643, 0.0626, 0.0471, 0.0428, 0.0064, 0.0006, 0.0002,
]  # fmt: skip


def dist(x, y) -> float:
    return math.sqrt(sum((float(a) - float(b)) ** 2 for a, b in zip(x, y, strict=True)))


def reduce_loop(values: list[float], reduction: str):
    if reduction == "none":
        return values
    return sum(values) / len(values) if reduction == "mean" else sum(values)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_matches_loop(reduction):
    g = torch.Generator().manual_seed(0)
    a, p, n = (torch.randn(7, 5, generator=g) for _ in range(3))
    got = F.triplet(a, p, n, margin=0.5, reduction=reduction)
    want = [max(dist(a[i], p[i]) - dist(a[i], n[i]) + 0.5, 0.0) for i in range(7)]
    assert np.allclose(np.asarray(got.tolist()), reduce_loop(want, reduction), atol=1e-6)
    assert any(w == 0 for w in want) and any(w > 0 for w in want)  # both hinge sides exercised


def test_triplet_matches_pytorch_metric_learning():
    g = torch.Generator().manual_seed(1)
    emb = torch.randn(10, 4, generator=g)
    a, p, n = (
        torch.tensor([0, 1, 2, 3, 4]),
        torch.tensor([5, 6, 7, 8, 9]),
        torch.tensor([9, 0, 5, 1, 2]),
    )
    pml = TripletMarginLoss(
        margin=0.3, distance=LpDistance(normalize_embeddings=False, p=2), reducer=MeanReducer()
    )
    want = pml(emb, indices_tuple=(a, p, n))
    got = F.triplet(emb[a], emb[p], emb[n], margin=0.3)
    assert torch.allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_quadruplet_matches_loop(reduction):
    g = torch.Generator().manual_seed(2)
    a, p, n1, n2 = (torch.randn(9, 3, generator=g) for _ in range(4))
    got = F.quadruplet(a, p, n1, n2, 0.3, 0.9, weight_id=0.7, weight_class=1.5, reduction=reduction)
    want = [
        0.7 * max(dist(a[i], p[i]) + 0.3 - dist(a[i], n1[i]), 0.0)
        + 1.5 * max(dist(a[i], n1[i]) + 0.9 - dist(a[i], n2[i]), 0.0)
        for i in range(9)
    ]
    assert np.allclose(np.asarray(got.tolist()), reduce_loop(want, reduction), atol=1e-6)


def test_quadruplet_requires_margin_id_below_margin_class():
    x = torch.zeros(1, 2)
    with pytest.raises(ConfigError, match="margin_id < margin_class"):
        F.quadruplet(x, x, x, x, margin_id=0.5, margin_class=0.5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_contrastive_hash_matches_loop(reduction):
    g = torch.Generator().manual_seed(3)
    bits = 6
    h1, h2 = (torch.tanh(2 * torch.randn(8, bits, generator=g)) for _ in range(2))
    h2[4] = -h1[4]  # a far dissimilar pair next to close ones
    similar = torch.tensor([1, 0, 1, 0, 0, 1, 0, 0], dtype=torch.bool)
    got = F.contrastive_hash(h1, h2, similar, alpha=0.1, reduction=reduction)
    want = []
    for i in range(8):
        sq = sum((float(h1[i, k]) - float(h2[i, k])) ** 2 for k in range(bits))
        s = 1.0 if similar[i] else 0.0
        reg = sum(
            abs(abs(float(h1[i, k])) - 1) + abs(abs(float(h2[i, k])) - 1) for k in range(bits)
        )
        want.append(0.5 * s * sq + 0.5 * (1 - s) * max(2 * bits - sq, 0.0) + 0.1 * reg)
    assert np.allclose(np.asarray(got.tolist()), reduce_loop(want, reduction), atol=1e-5)


def test_contrastive_hash_explicit_margin():
    h1, h2 = torch.zeros(1, 4), torch.full((1, 4), 0.5)  # squared distance 1
    got = F.contrastive_hash(h1, h2, torch.tensor([0]), margin=3.0, alpha=0.0)
    assert got.item() == pytest.approx(0.5 * (3.0 - 1.0))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_multilabel_matches_loop(reduction):
    g = torch.Generator().manual_seed(4)
    batch, dims, gammas = 5, [3, 2], [0.5, 2.0]
    logits = [torch.randn(batch, m, generator=g) for m in dims]
    targets = [(torch.rand(batch, m, generator=g) > 0.5).float() for m in dims]
    targets[0][1] = -1.0  # a missing label row
    targets[1][3, 0] = -1.0  # a single missing value
    got = F.weighted_multilabel(logits, targets, gammas, reduction=reduction)
    per_sample = []
    for b in range(batch):
        total = 0.0
        for t, m_t in enumerate(dims):
            for m in range(m_t):
                y, z = float(targets[t][b, m]), float(logits[t][b, m])
                if y < 0:
                    continue
                prob = 1 / (1 + math.exp(-z))
                total += gammas[t] * -(y * math.log(prob) + (1 - y) * math.log(1 - prob))
        per_sample.append(total)
    assert np.allclose(np.asarray(got.tolist()), reduce_loop(per_sample, reduction), atol=1e-5)


def test_task_weights_table_ii_floor_is_mean_over_three():
    ratio = F.task_weights(TABLE_II, scheme="ratio")
    smoothed = F.task_weights(TABLE_II, scheme="smoothed_ratio", c=3.0)
    floor = sum(TABLE_II) / len(TABLE_II) / 3
    assert floor == pytest.approx(0.113, abs=5e-4)
    assert smoothed.min().item() == pytest.approx(floor)
    for r, r_t, w_t in zip(TABLE_II, ratio.tolist(), smoothed.tolist(), strict=True):
        assert r_t == pytest.approx(r)
        assert w_t == pytest.approx(r if r >= floor else floor)
    inverse = F.task_weights(TABLE_II)  # default scheme inverse_smoothed
    assert inverse.tolist() == pytest.approx([1 / w for w in smoothed.tolist()])
    assert inverse.max().item() == pytest.approx(3 / (sum(TABLE_II) / len(TABLE_II)))
    assert F.task_weights(TABLE_II, scheme="uniform").tolist() == [1.0] * len(TABLE_II)


def test_task_weights_from_counts_and_mapping():
    counts = {"color": 400, "sleeve": 100, "wool": 1}
    ratios = [1.0, 0.25, 0.0025]
    mean = sum(ratios) / 3
    got = F.task_weights(counts, scheme="smoothed_ratio", c=2.0)
    assert got.tolist() == pytest.approx([max(r, mean / 2) for r in ratios])


@pytest.mark.parametrize(
    ("counts", "scheme"), [([0, 0], "ratio"), ([3, -1], "ratio"), ([1, 2], "bogus")]
)
def test_task_weights_rejects_bad_input(counts, scheme):
    with pytest.raises(ConfigError):
        F.task_weights(counts, scheme=scheme)


def test_functional_losses_pass_gradcheck():
    g = torch.Generator().manual_seed(5)

    def rand(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)

    a, p, n, n2 = rand(4, 3), rand(4, 3), rand(4, 3), rand(4, 3)
    # Margins large enough that every hinge is active (no kink under finite differences).
    assert torch.autograd.gradcheck(lambda *x: F.triplet(*x, margin=10.0), (a, p, n))
    assert torch.autograd.gradcheck(
        lambda *x: F.quadruplet(*x, margin_id=10.0, margin_class=20.0, weight_class=0.5),
        (a, p, n, n2),
    )
    h1, h2 = rand(5, 4), rand(5, 4)
    similar = torch.tensor([1, 0, 1, 0, 0])
    assert torch.autograd.gradcheck(
        lambda x, y: F.contrastive_hash(x, y, similar, margin=100.0, alpha=0.3), (h1, h2)
    )
    logits = (rand(4, 3), rand(4, 2))
    targets = [torch.tensor([[1.0, 0, 1], [0, 0, 1], [-1, -1, -1], [1, 1, 0]]), torch.rand(4, 2)]
    targets = [t.double() for t in targets]
    assert torch.autograd.gradcheck(
        lambda x, y: F.weighted_multilabel([x, y], targets, [0.3, 1.7]), logits
    )


@pytest.mark.parametrize("loss", ["triplet", "quadruplet", "contrastive_hash"])
def test_no_tuples_gives_zero_with_grad(loss):
    emb = torch.randn(4, 3, requires_grad=True)
    none = torch.zeros(0, dtype=torch.long)
    rows = emb[none]
    if loss == "triplet":
        value = F.triplet(rows, rows, rows)
    elif loss == "quadruplet":
        value = F.quadruplet(rows, rows, rows, rows)
    else:
        value = F.contrastive_hash(rows, rows, none)
    assert value.item() == 0.0 and value.grad_fn is not None
    value.backward()
    assert torch.equal(emb.grad, torch.zeros_like(emb))


def test_unknown_reduction_is_a_config_error():
    x = torch.zeros(2, 2)
    with pytest.raises(ConfigError, match="reduction"):
        F.triplet(x, x, x, reduction="avg")
