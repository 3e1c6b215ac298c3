"""Optimiser factory, epoch schedules and the learning-rate scaling rule."""

from __future__ import annotations

import math

import pytest
import torch

from clothret.errors import ConfigError
from clothret.lightning_modules.optim import build_optimizer, build_scheduler, scaled_lr


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("none", 0.1), ("linear", 0.1 * 1024 / 256), ("sqrt", 0.1 * math.sqrt(1024 / 256))],
)
def test_scaled_lr(rule: str, expected: float) -> None:
    assert scaled_lr(0.1, rule, batch_size=1024, base_batch_size=256) == pytest.approx(expected)


def test_unknown_scaling_rule() -> None:
    with pytest.raises(ConfigError, match="linear"):
        scaled_lr(0.1, "quadratic", 1, 1)


def _optimizer(lr: float = 1.0) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(2))]
    return build_optimizer([{"params": params}], {"name": "sgd", "lr": lr})


def test_optimizer_groups_take_lr_multipliers() -> None:
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = build_optimizer(
        [{"params": [a], "lr_mult": 0.1}, {"params": [b]}],
        {"name": "sgd", "lr": 0.2, "momentum": 0.9},
    )
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.02, 0.2])
    assert opt.param_groups[0]["momentum"] == 0.9


def test_bad_optimizer_parameter_names_the_node() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ConfigError, match=r"module\.optimizer"):
        build_optimizer([{"params": [param]}], {"name": "sgd", "lr": 0.1, "momentun": 0.9})


def _lrs(scheduler: torch.optim.lr_scheduler.LRScheduler, epochs: int) -> list[float]:
    values = []
    for _ in range(epochs):
        values.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return values


def test_cosine_with_warmup_follows_the_formula() -> None:
    opt = _optimizer(1.0)
    scheduler = build_scheduler(opt, {"name": "cosine", "warmup_epochs": 2}, max_epochs=6)
    total = 6 - 2
    expected = [1 / 3, 2 / 3] + [0.5 * (1 + math.cos(math.pi * e / total)) for e in range(4)]
    assert _lrs(scheduler, 6) == pytest.approx(expected)


def test_step_schedule_and_none() -> None:
    opt = _optimizer(1.0)
    scheduler = build_scheduler(opt, {"name": "step", "step_size": 2, "gamma": 0.5}, 5)
    assert _lrs(scheduler, 5) == pytest.approx([1, 1, 0.5, 0.5, 0.25])
    assert build_scheduler(_optimizer(), {"name": "none"}, 5) is None
