"""CrossEntropyLoss on categories and single-label attribute tasks against written-out loops."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.errors import ConfigError, DataError
from clothret.losses import CrossEntropyLoss
from clothret.registry import build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def ce_loop(logits: torch.Tensor, labels: list[int], smoothing: float = 0.0) -> float:
    values = []
    for row, y in zip(logits.tolist(), labels, strict=True):
        if y < 0:
            continue
        log_z = math.log(sum(math.exp(v) for v in row))
        nll = [log_z - v for v in row]
        values.append((1 - smoothing) * nll[y] + smoothing * sum(nll) / len(row))
    return sum(values) / len(values)


def test_category_ignores_unknown_and_applies_label_smoothing():
    logits = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    labels = [2, -1, 0, 3, 3]
    batch = {keys.CATEGORY: torch.tensor(labels)}
    plain = CrossEntropyLoss()({keys.CATEGORY_LOGITS: logits}, batch)
    assert plain.item() == pytest.approx(ce_loop(logits, labels), abs=1e-5)
    smooth = CrossEntropyLoss(label_smoothing=0.2)({keys.CATEGORY_LOGITS: logits}, batch)
    assert smooth.item() == pytest.approx(ce_loop(logits, labels, 0.2), abs=1e-5)


def test_all_unknown_is_zero_with_grad():
    logits = torch.randn(3, 4, requires_grad=True)
    value = CrossEntropyLoss()(
        {keys.CATEGORY_LOGITS: logits}, {keys.CATEGORY: torch.full((3,), -1)}
    )
    assert value.item() == 0.0 and value.grad_fn is not None
    value.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_attributes_sum_weighted_tasks_and_skip_missing_rows():
    g = torch.Generator().manual_seed(1)
    logits = {"collar": torch.randn(4, 3, generator=g), "length": torch.randn(4, 2, generator=g)}
    eye3, eye2, miss3 = torch.eye(3), torch.eye(2), torch.full((3,), -1.0)
    targets = {
        "collar": torch.stack([eye3[1], miss3, eye3[2], eye3[0]]),
        "length": torch.stack([eye2[0], eye2[1], eye2[1], -torch.ones(2)]),
    }
    loss = CrossEntropyLoss(target="attributes", task_weight={"length": 0.5})
    got = loss({keys.ATTRIBUTE_LOGITS: logits}, {keys.ATTRIBUTES: targets})
    want = ce_loop(logits["collar"], [1, -1, 2, 0]) + 0.5 * ce_loop(logits["length"], [0, 1, 1, -1])
    assert got.item() == pytest.approx(want, abs=1e-5)
    assert loss.requires_outputs == (keys.ATTRIBUTE_LOGITS,)


def test_attribute_errors():
    logits = {"collar": torch.zeros(2, 3)}
    multi_hot = {"collar": torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])}
    with pytest.raises(DataError, match="weighted_multilabel"):
        CrossEntropyLoss(target="attributes")(
            {keys.ATTRIBUTE_LOGITS: logits}, {keys.ATTRIBUTES: multi_hot}
        )
    with pytest.raises(ConfigError, match="unknown task"):
        CrossEntropyLoss(target="attributes", task_weight={"colour": 1.0})(
            {keys.ATTRIBUTE_LOGITS: logits}, {keys.ATTRIBUTES: multi_hot}
        )
    with pytest.raises(ConfigError, match="target"):
        CrossEntropyLoss(target="items")


def test_yaml_builds_and_names_the_classifier_head():
    loss = build("loss", OmegaConf.load(CONFIGS / "loss" / "cross_entropy.yaml"))
    with pytest.raises(ConfigError, match="`classifier` head"):
        loss({keys.EMBEDDING: torch.zeros(2, 3)}, {keys.CATEGORY: torch.zeros(2).long()})
