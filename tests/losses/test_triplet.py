"""TripletLoss on a batch against brute-force batch-hard loops and pytorch-metric-learning."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.miners import BatchHardMiner as PmlBatchHardMiner
from pytorch_metric_learning.reducers import MeanReducer

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses import TripletLoss
from clothret.miners import AllMiner, SemiHardMiner
from clothret.registry import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ITEMS = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3])
DOMAIN = torch.tensor([1, 0, 1, 0, 0, 1, 0, 0])


def embeddings() -> torch.Tensor:
    return torch.randn(len(ITEMS), 5, generator=torch.Generator().manual_seed(0))


def brute_batch_hard(x, items, margin, anchors=None, partners=None) -> float:
    n = len(items)
    anchors = range(n) if anchors is None else anchors
    partners = range(n) if partners is None else partners
    losses = []
    for a in anchors:
        pos = [
            math.dist(x[a].tolist(), x[p].tolist())
            for p in partners
            if p != a and items[p] == items[a]
        ]
        neg = [math.dist(x[a].tolist(), x[q].tolist()) for q in partners if items[q] != items[a]]
        if pos and neg:
            losses.append(max(max(pos) - min(neg) + margin, 0.0))
    return sum(losses) / len(losses)


def test_batch_hard_value_matches_loops_and_pytorch_metric_learning():
    x = embeddings()
    got = TripletLoss(margin=0.4)({keys.EMBEDDING: x}, {keys.ITEM_ID: ITEMS})
    assert got.item() == pytest.approx(brute_batch_hard(x, ITEMS.tolist(), 0.4), abs=1e-5)
    distance = LpDistance(normalize_embeddings=False, p=2)
    pml_triplets = PmlBatchHardMiner(distance=distance)(x, ITEMS)
    pml = TripletMarginLoss(margin=0.4, distance=distance, reducer=MeanReducer())
    assert got.item() == pytest.approx(pml(x, ITEMS, pml_triplets).item(), abs=1e-5)


def test_all_miner_matches_pytorch_metric_learning_on_the_same_triplets():
    x = embeddings()
    loss = TripletLoss(margin=0.3, miner=AllMiner())
    triplets = loss.miner.triplets(x, ITEMS)
    pml = TripletMarginLoss(
        margin=0.3, distance=LpDistance(normalize_embeddings=False, p=2), reducer=MeanReducer()
    )
    want = pml(x, indices_tuple=triplets)
    assert loss({keys.EMBEDDING: x}, {keys.ITEM_ID: ITEMS}).item() == pytest.approx(
        want.item(), abs=1e-5
    )


def test_consumer_to_shop_uses_consumer_anchors_and_shop_partners():
    x = embeddings()
    loss = TripletLoss(margin=0.5, consumer_to_shop=True)
    got = loss({keys.EMBEDDING: x}, {keys.ITEM_ID: ITEMS, keys.DOMAIN: DOMAIN})
    consumers = [i for i, d in enumerate(DOMAIN.tolist()) if d == 1]
    shops = [i for i, d in enumerate(DOMAIN.tolist()) if d == 0]
    want = brute_batch_hard(x, ITEMS.tolist(), 0.5, anchors=consumers, partners=shops)
    assert got.item() == pytest.approx(want, abs=1e-5)
    assert got.item() != pytest.approx(brute_batch_hard(x, ITEMS.tolist(), 0.5), abs=1e-3)


def test_cross_device_without_process_group_is_a_no_op():
    x = embeddings()
    batch = {keys.ITEM_ID: ITEMS}
    local = TripletLoss()({keys.EMBEDDING: x}, batch)
    assert torch.equal(TripletLoss(cross_device=True)({keys.EMBEDDING: x}, batch), local)


def test_semi_hard_uses_the_loss_margin_and_empty_is_zero_with_grad():
    x = embeddings().requires_grad_()
    loss = TripletLoss(margin=1e-6, miner=SemiHardMiner())
    value = loss({keys.EMBEDDING: x}, {keys.ITEM_ID: ITEMS})
    assert value.item() == 0.0 and value.grad_fn is not None  # window too narrow: no triplet
    value.backward()
    assert not torch.isnan(x.grad).any()


def test_missing_keys_name_their_provider():
    loss = TripletLoss()
    with pytest.raises(ConfigError, match=r"'embedding'.*`embedding` or `fusion` head"):
        loss({keys.HASH: torch.zeros(2, 4)}, {keys.ITEM_ID: ITEMS[:2]})
    with pytest.raises(ConfigError, match=r"'item_id'.*item_id"):
        loss({keys.EMBEDDING: torch.zeros(2, 4)}, {})
    with pytest.raises(ConfigError, match="'domain'"):
        TripletLoss(consumer_to_shop=True)(
            {keys.EMBEDDING: torch.zeros(2, 4)}, {keys.ITEM_ID: ITEMS[:2]}
        )


def test_builds_from_default_yaml_with_nested_miner():
    loss = build("loss", OmegaConf.load(CONFIGS / "loss" / "triplet.yaml"))
    assert isinstance(loss, TripletLoss) and type(loss.miner).__name__ == "BatchHardMiner"
    assert loss.requires_outputs == (keys.EMBEDDING,) and loss.requires_batch == (keys.ITEM_ID,)
    with pytest.raises(ConfigError, match=r"loss\.miner\.margni"):
        build("loss", {"name": "triplet", "miner": {"name": "semi_hard", "margni": 1}}, at="loss")
