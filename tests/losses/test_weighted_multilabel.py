"""WeightedMultilabelLoss: γ from label counts or given, value against a loop over labels."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses import WeightedMultilabelLoss
from clothret.registry import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DIMS = {"color": 3, "sleeve": 2}
COUNTS = {"color": 90, "sleeve": 3}


def batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    logits = {t: torch.randn(4, m, generator=g) for t, m in DIMS.items()}
    targets = {t: (torch.rand(4, m, generator=g) > 0.5).float() for t, m in DIMS.items()}
    targets["sleeve"][2] = -1.0
    return {keys.ATTRIBUTE_LOGITS: logits}, {keys.ATTRIBUTES: targets}


def loop_value(outputs, data, gammas: dict[str, float]) -> float:
    total = 0.0
    for t, logits in outputs[keys.ATTRIBUTE_LOGITS].items():
        targets = data[keys.ATTRIBUTES][t]
        for b in range(4):
            for m in range(DIMS[t]):
                y, z = float(targets[b, m]), float(logits[b, m])
                if y >= 0:
                    p = 1 / (1 + math.exp(-z))
                    total += gammas[t] * -(y * math.log(p) + (1 - y) * math.log(1 - p)) / 4
    return total


def test_gammas_from_injected_label_counts():
    loss = build(
        "loss", OmegaConf.load(CONFIGS / "loss" / "weighted_multilabel.yaml"), label_counts=COUNTS
    )
    ratios = {"color": 1.0, "sleeve": 3 / 90}
    floor = (1.0 + 3 / 90) / 2 / 3
    gammas = {t: 1 / max(r, floor) for t, r in ratios.items()}
    assert loss.gammas == pytest.approx(gammas)
    outputs, data = batch()
    assert loss(outputs, data).item() == pytest.approx(loop_value(outputs, data, gammas), abs=1e-5)


def test_explicit_gammas_dict_and_list():
    outputs, data = batch(1)
    want = loop_value(outputs, data, {"color": 0.2, "sleeve": 3.0})
    by_name = WeightedMultilabelLoss(gammas={"sleeve": 3.0, "color": 0.2}, label_counts=COUNTS)
    assert by_name(outputs, data).item() == pytest.approx(want, abs=1e-5)
    by_order = WeightedMultilabelLoss(gammas=[0.2, 3.0])
    assert by_order(outputs, data).item() == pytest.approx(want, abs=1e-5)
    with pytest.raises(ConfigError, match="2 gammas for 3 tasks"):
        WeightedMultilabelLoss(gammas=[0.2, 3.0])(
            {keys.ATTRIBUTE_LOGITS: {**outputs[keys.ATTRIBUTE_LOGITS], "x": torch.zeros(4, 1)}},
            {keys.ATTRIBUTES: {**data[keys.ATTRIBUTES], "x": torch.zeros(4, 1)}},
        )


def test_uniform_needs_no_counts_and_missing_counts_fail_at_forward():
    outputs, data = batch(2)
    uniform = WeightedMultilabelLoss(scheme="uniform")
    assert uniform(outputs, data).item() == pytest.approx(
        loop_value(outputs, data, {"color": 1.0, "sleeve": 1.0}), abs=1e-5
    )
    unset = WeightedMultilabelLoss()  # builds; only the forward needs the weights
    with pytest.raises(ConfigError, match="label_counts"):
        unset(outputs, data)


def test_unknown_tasks_are_clear_errors():
    outputs, data = batch(3)
    with pytest.raises(ConfigError, match=r"no gamma for attribute task\(s\) \['sleeve'\]"):
        WeightedMultilabelLoss(gammas={"color": 1.0})(outputs, data)
    with pytest.raises(ConfigError, match="no attribute labels"):
        WeightedMultilabelLoss(scheme="uniform")(
            outputs, {keys.ATTRIBUTES: {"color": torch.zeros(4, 3)}}
        )
    with pytest.raises(ConfigError, match="`multitask` head"):
        WeightedMultilabelLoss(scheme="uniform")({}, data)
