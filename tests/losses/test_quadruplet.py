"""QuadrupletLoss on a batch against the eq. 7 formula looped over brute-force quadruplets."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses import QuadrupletLoss
from clothret.registry import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ITEMS = torch.tensor([0, 0, 1, 1, 2, 3, 3, 4])
CATS = torch.tensor([0, 0, 0, 0, 0, 1, 1, 2])
DOMAIN = torch.tensor([1, 0, 1, 0, 0, 1, 0, 0])
M1, M2, W1, W2 = 0.3, 0.9, 0.8, 1.3


def term(x, a, p, n1, n2) -> float:
    d = [[math.dist(u.tolist(), v.tolist()) for v in x] for u in x]
    return W1 * max(d[a][p] + M1 - d[a][n1], 0.0) + W2 * max(d[a][n1] + M2 - d[a][n2], 0.0)


def valid(a, p, n1, n2, partners) -> bool:
    return (
        a != p
        and {p, n1, n2} <= partners
        and ITEMS[p] == ITEMS[a]
        and ITEMS[n1] != ITEMS[a]
        and CATS[n1] == CATS[a]
        and CATS[n2] != CATS[a]
    )


def make(miner: str, **kw) -> QuadrupletLoss:
    return QuadrupletLoss(M1, M2, W1, W2, miner=miner, **kw)


def test_all_miner_value_is_mean_over_every_quadruplet():
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    got = make("all")({keys.EMBEDDING: x}, {keys.ITEM_ID: ITEMS, keys.CATEGORY: CATS})
    everything = set(range(8))
    values = [term(x, *q) for q in itertools.product(range(8), repeat=4) if valid(*q, everything)]
    assert values and got.item() == pytest.approx(sum(values) / len(values), abs=1e-5)


def test_batch_hard_value_matches_loop():
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    got = make("batch_hard")({keys.EMBEDDING: x}, {keys.ITEM_ID: ITEMS, keys.CATEGORY: CATS})
    d = [[math.dist(u.tolist(), v.tolist()) for v in x] for u in x]
    values = []
    for a in range(8):
        pos = [j for j in range(8) if j != a and ITEMS[j] == ITEMS[a]]
        n1 = [j for j in range(8) if ITEMS[j] != ITEMS[a] and CATS[j] == CATS[a]]
        n2 = [j for j in range(8) if CATS[j] != CATS[a]]
        if pos and n1 and n2:
            q = (a, max(pos, key=lambda j: d[a][j]), min(n1, key=lambda j: d[a][j]))
            values.append(term(x, *q, min(n2, key=lambda j: d[a][j])))
    assert got.item() == pytest.approx(sum(values) / len(values), abs=1e-5)


def test_consumer_to_shop_quadruplets():
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(2))
    batch = {keys.ITEM_ID: ITEMS, keys.CATEGORY: CATS, keys.DOMAIN: DOMAIN}
    got = make("all", consumer_to_shop=True)({keys.EMBEDDING: x}, batch)
    shops = {i for i in range(8) if DOMAIN[i] == 0}
    values = [
        term(x, *q)
        for q in itertools.product(range(8), repeat=4)
        if DOMAIN[q[0]] == 1 and valid(*q, shops)
    ]
    assert values and got.item() == pytest.approx(sum(values) / len(values), abs=1e-5)


def test_no_valid_quadruplet_is_zero_with_grad():
    x = torch.randn(4, 3, requires_grad=True)
    same_category = {keys.ITEM_ID: torch.tensor([0, 0, 1, 1]), keys.CATEGORY: torch.zeros(4).long()}
    value = make("batch_hard")({keys.EMBEDDING: x}, same_category)  # no n2 anywhere
    assert value.item() == 0.0 and value.grad_fn is not None
    value.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_margins_validated_and_yaml_builds():
    with pytest.raises(ConfigError, match="margin_id < margin_class"):
        QuadrupletLoss(margin_id=0.5, margin_class=0.2)
    loss = build("loss", OmegaConf.load(CONFIGS / "loss" / "quadruplet.yaml"))
    assert isinstance(loss, QuadrupletLoss)
    assert loss.requires_batch == (keys.ITEM_ID, keys.CATEGORY)
    with pytest.raises(ConfigError, match="'category'"):
        loss({keys.EMBEDDING: torch.zeros(2, 3)}, {keys.ITEM_ID: torch.zeros(2).long()})
