"""ContrastiveHashLoss on a batch against the eq. 4 formula looped over every pair."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses import ContrastiveHashLoss
from clothret.registry import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ITEMS = torch.tensor([0, 0, 0, 1, 1, 2, 3])
BITS = 8


def codes(seed: int = 0) -> torch.Tensor:
    return torch.tanh(
        2 * torch.randn(len(ITEMS), BITS, generator=torch.Generator().manual_seed(seed))
    )


def pair_value(h, i, j, margin, alpha) -> float:
    sq = sum((float(h[i, k]) - float(h[j, k])) ** 2 for k in range(h.shape[1]))
    reg = sum(abs(abs(float(h[r, k])) - 1) for r in (i, j) for k in range(h.shape[1]))
    if ITEMS[i] == ITEMS[j]:
        return 0.5 * sq + alpha * reg
    return 0.5 * max(margin - sq, 0.0) + alpha * reg


def test_all_pairs_value_matches_loop_with_default_margin():
    h = codes()
    got = ContrastiveHashLoss(alpha=0.05)({keys.HASH: h}, {keys.ITEM_ID: ITEMS})
    values = [pair_value(h, i, j, 2 * BITS, 0.05) for i, j in itertools.combinations(range(7), 2)]
    assert got.item() == pytest.approx(sum(values) / len(values), abs=1e-5)


def test_sigmoid_codes_are_mapped_to_plus_minus_one():
    h = codes(1)
    sigmoid_codes = (h + 1) / 2
    loss = ContrastiveHashLoss(margin=5.0, activation="sigmoid")
    got = loss({keys.HASH: sigmoid_codes}, {keys.ITEM_ID: ITEMS})
    values = [pair_value(h, i, j, 5.0, 0.01) for i, j in itertools.combinations(range(7), 2)]
    assert got.item() == pytest.approx(sum(values) / len(values), abs=1e-5)


def test_balanced_pairs_are_a_seeded_balanced_subset():
    h = codes(2)
    batch = {keys.HASH: h}, {keys.ITEM_ID: ITEMS}
    loss = ContrastiveHashLoss(pairs="balanced", seed=3)
    drawn = []
    original = loss.balance

    def spy(i, j, similar):
        out = original(i, j, similar)
        drawn.append(out)
        return out

    loss.balance = spy
    values = [loss(*batch).item() for _ in range(4)]
    for i, j, similar in drawn:
        assert similar.sum().item() == (~similar).sum().item() == 4  # 4 similar pairs exist
        assert len({frozenset(p) for p in zip(i.tolist(), j.tolist(), strict=True)}) == 8
        for a, b, s in zip(i.tolist(), j.tolist(), similar.tolist(), strict=True):
            assert s == bool(ITEMS[a] == ITEMS[b])
    for (i, j, _), value in zip(drawn, values, strict=True):
        want = [
            pair_value(h, a, b, 2 * BITS, 0.01) for a, b in zip(i.tolist(), j.tolist(), strict=True)
        ]
        assert value == pytest.approx(sum(want) / len(want), abs=1e-5)
    assert len({tuple(d[1].tolist()) for d in drawn}) > 1  # a new draw each step
    again = ContrastiveHashLoss(pairs="balanced", seed=3)
    assert [again(*batch).item() for _ in range(4)] == values  # same seed, same draws
    assert int(loss.state_dict()["step"]) == 4


def test_no_pairs_is_zero_with_grad_and_bad_params_fail():
    h = codes().requires_grad_()
    value = ContrastiveHashLoss()({keys.HASH: h[:1]}, {keys.ITEM_ID: ITEMS[:1]})
    assert value.item() == 0.0 and value.grad_fn is not None
    with pytest.raises(ConfigError, match="pairs"):
        ContrastiveHashLoss(pairs="hard")
    with pytest.raises(ConfigError, match="activation"):
        ContrastiveHashLoss(activation="relu")


def test_yaml_builds_and_requires_hash():
    loss = build("loss", OmegaConf.load(CONFIGS / "loss" / "contrastive_hash.yaml"))
    assert isinstance(loss, ContrastiveHashLoss)
    with pytest.raises(ConfigError, match=r"'hash'.*`latent_hash` or `tanh_hash` head"):
        loss({keys.EMBEDDING: torch.zeros(2, 3)}, {keys.ITEM_ID: ITEMS[:2]})
