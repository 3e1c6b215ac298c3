"""Optimiser and learning-rate schedule from config nodes.

Optimisers come from timm's factory (``adamw``, ``sgd``, ``lamb``, ... every name
``timm.optim.list_optimizers()`` knows); schedules are torch's, stepped per epoch by Lightning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from timm.optim import create_optimizer_v2, list_optimizers

from clothret.errors import ConfigError
from clothret.registry import did_you_mean

SCHEDULES = ("none", "cosine", "step", "constant")
LR_SCALING = ("none", "linear", "sqrt")


def scaled_lr(lr: float, rule: str, batch_size: int, base_batch_size: int) -> float:
    """Scale ``lr`` for an effective batch size (Goyal et al. linear rule, or square root).

    ``batch_size`` is the effective batch: per-device batch × devices × nodes × accumulation.
    """
    if rule not in LR_SCALING:
        raise ConfigError(f"Unknown lr_scaling {rule!r}; choose one of {', '.join(LR_SCALING)}.")
    ratio = batch_size / base_batch_size
    return {"none": lr, "linear": lr * ratio, "sqrt": lr * math.sqrt(ratio)}[rule]


def build_optimizer(
    param_groups: Sequence[dict[str, Any]], node: Mapping[str, Any]
) -> torch.optim.Optimizer:
    """Build ``node = {name: adamw, lr: ..., weight_decay: ..., ...}`` over ``param_groups``.

    Each group may carry ``lr_mult``; its lr is ``node.lr * lr_mult``.
    """
    params = dict(node)
    name = str(params.pop("name", "adamw"))
    if name not in list_optimizers():
        raise ConfigError(
            f"Unknown optimizer {name!r} at module.optimizer.name."
            f"{did_you_mean(name, list_optimizers())}"
            " Any name of timm.optim.list_optimizers() works (adamw, sgd, adam, lamb, ...)."
        )
    lr = float(params.pop("lr", 1e-3))
    groups = []
    for group in param_groups:
        group = dict(group)
        group["lr"] = lr * float(group.pop("lr_mult", 1.0))
        groups.append(group)
    try:
        return create_optimizer_v2(groups, opt=name, lr=lr, **params)
    except TypeError as err:
        raise ConfigError(f"Bad parameter in module.optimizer for {name!r}: {err}") from err


def build_scheduler(
    optimizer: torch.optim.Optimizer, node: Mapping[str, Any] | None, max_epochs: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Epoch-wise schedule: ``cosine`` (with linear ``warmup_epochs``), ``step`` or ``none``."""
    params = dict(node or {"name": "none"})
    name = str(params.pop("name", "none"))
    warmup = int(params.pop("warmup_epochs", 0))
    if name not in SCHEDULES:
        raise ConfigError(
            f"Unknown scheduler {name!r} at module.scheduler.name.{did_you_mean(name, SCHEDULES)}"
            f" Choose one of {', '.join(SCHEDULES)}."
        )
    if name in ("none", "constant"):
        main = None
    elif name == "cosine":
        min_lr_ratio = float(params.pop("min_lr_ratio", 0.0))
        total = max(1, max_epochs - warmup)
        main = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda e: min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * e / total)),
        )
    else:
        main = torch.optim.lr_scheduler.StepLR(
            optimizer,
            step_size=int(params.pop("step_size", 10)),
            gamma=float(params.pop("gamma", 0.1)),
        )
    if params:
        raise ConfigError(
            f"Unknown key(s) {', '.join(params)} in module.scheduler for {name!r}: valid keys are "
            "name, warmup_epochs, min_lr_ratio (cosine), step_size and gamma (step)."
        )
    if warmup <= 0:
        return main
    warm = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: (e + 1) / (warmup + 1))
    if main is None:
        return warm
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, main], milestones=[warmup])
