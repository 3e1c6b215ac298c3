"""``weighted_multilabel`` loss term: the multi-weight CNN's task-weighted sigmoid loss."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses import functional as F
from clothret.losses.base import LossTerm
from clothret.registry import register


@register("loss", "weighted_multilabel")
class WeightedMultilabelLoss(LossTerm):
    """``Σ_t γ_t · (1/B) Σ_b Σ_m BCE`` over attribute tasks (multi-weight CNN, eqs. 1–3).

    Reads ``ATTRIBUTE_LOGITS`` and ``ATTRIBUTES`` (dicts task → ``[B, M_t]``; −1 targets are
    missing and contribute nothing). The weights γ are, in order of precedence: ``gammas`` as
    given; ones for ``scheme: uniform``; else ``task_weights(label_counts, scheme, c)`` from the
    training split's label counts, which the builder injects after the datamodule's setup. A
    term built with neither (e.g. outside a training run) fails at its first forward with a
    ConfigError saying how to provide them.

    Args:
        gammas: explicit weights, a task → γ mapping, or a list in the order of the model's
            ``ATTRIBUTE_LOGITS`` tasks; ``None`` to derive them from ``scheme``.
        scheme: ``task_weights`` scheme (``inverse_smoothed``, ``smoothed_ratio``, ``ratio``,
            ``uniform``).
        c: smoothing constant of eq. 11.
        label_counts: positive labels per task in the training split (runtime value).
        weight: factor the module applies to this term's value.
    """

    registered_name = "weighted_multilabel"
    requires_outputs = (keys.ATTRIBUTE_LOGITS,)
    requires_batch = (keys.ATTRIBUTES,)

    def __init__(
        self,
        gammas: Mapping[str, float] | Sequence[float] | None = None,
        scheme: str = "inverse_smoothed",
        c: float = 3.0,
        label_counts: Mapping[str, int] | None = None,
        weight: float = 1.0,
    ) -> None:
        super().__init__(weight=weight)
        if scheme not in F.WEIGHT_SCHEMES:
            raise ConfigError(
                f"weighted_multilabel scheme must be one of {F.WEIGHT_SCHEMES}, got {scheme!r}."
            )
        self.scheme, self.c = scheme, float(c)
        self.label_counts = dict(label_counts) if label_counts is not None else None
        self.gammas: dict[str, float] | list[float] | None = None
        if isinstance(gammas, Mapping):
            self.gammas = {str(k): float(v) for k, v in gammas.items()}
        elif gammas is not None:
            self.gammas = [float(v) for v in gammas]
        elif scheme != "uniform" and self.label_counts is not None:
            weights = F.task_weights(self.label_counts, scheme=scheme, c=self.c)
            self.gammas = dict(zip(self.label_counts, weights.tolist(), strict=True))

    def task_gammas(self, tasks: list[str]) -> list[float]:
        """γ for each task name, in order; a clear error for a task without one."""
        if self.gammas is None:
            if self.scheme == "uniform":
                return [1.0] * len(tasks)
            raise ConfigError(
                "weighted_multilabel has no task weights: it needs label_counts (injected after "
                "the datamodule's setup), explicit loss.gammas, or loss.scheme=uniform."
            )
        if isinstance(self.gammas, list):
            if len(self.gammas) != len(tasks):
                raise ConfigError(
                    f"weighted_multilabel got {len(self.gammas)} gammas for {len(tasks)} tasks "
                    f"{tasks}; give one per task or a task → gamma mapping."
                )
            return list(self.gammas)
        missing = [t for t in tasks if t not in self.gammas]
        if missing:
            raise ConfigError(
                f"weighted_multilabel has no gamma for attribute task(s) {missing}; known: "
                f"{sorted(self.gammas)}. Add them to loss.gammas or check label_counts."
            )
        return [self.gammas[t] for t in tasks]

    def forward(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> Tensor:
        self.check_inputs(outputs, batch)
        logits: Mapping[str, Tensor] = outputs[keys.ATTRIBUTE_LOGITS]
        targets: Mapping[str, Tensor] = batch[keys.ATTRIBUTES]
        tasks = list(logits)
        if not tasks:
            raise ConfigError("weighted_multilabel: the model produced no attribute tasks.")
        absent = [t for t in tasks if t not in targets]
        if absent:
            raise ConfigError(
                f"weighted_multilabel: the batch has no attribute labels for task(s) {absent}; "
                f"it has {sorted(targets)}."
            )
        gammas = self.task_gammas(tasks)
        device = next(iter(logits.values())).device
        return F.weighted_multilabel(
            [logits[t] for t in tasks],
            [torch.as_tensor(targets[t]).to(device=device, dtype=logits[t].dtype) for t in tasks],
            gammas,
        )
