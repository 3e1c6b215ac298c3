"""``cross_entropy`` loss term: softmax cross-entropy on categories or single-label attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from clothret import keys
from clothret.errors import ConfigError, DataError
from clothret.losses.base import LossTerm
from clothret.registry import register

TARGETS = ("category", "attributes")


@register("loss", "cross_entropy")
class CrossEntropyLoss(LossTerm):
    """Softmax cross-entropy for the classification heads.

    ``target: category``: ``CATEGORY_LOGITS`` against ``CATEGORY``, unknown (−1) rows ignored
    (the latent-hash preset's category classifier). ``target: attributes``: for each task of
    ``ATTRIBUTE_LOGITS``, cross-entropy against the class of the one-hot ``ATTRIBUTES`` row,
    missing (all −1) rows skipped, averaged over the task's labelled rows and summed over tasks
    with an optional per-task weight (the street-to-shop hashing preset's attribute classifiers,
    term weight μ = 0.05). A batch with nothing labelled gives a zero that keeps the gradient.

    Args:
        target: ``"category"`` or ``"attributes"``.
        label_smoothing: as in ``torch.nn.functional.cross_entropy``.
        task_weight: optional task → weight mapping for ``attributes`` (tasks left out: 1.0).
        weight: factor the module applies to this term's value.
    """

    registered_name = "cross_entropy"

    def __init__(
        self,
        target: str = "category",
        label_smoothing: float = 0.0,
        task_weight: Mapping[str, float] | None = None,
        weight: float = 1.0,
    ) -> None:
        super().__init__(weight=weight)
        if target not in TARGETS:
            raise ConfigError(f"cross_entropy target must be one of {TARGETS}, got {target!r}.")
        if task_weight is not None and target != "attributes":
            raise ConfigError("cross_entropy task_weight applies only to target: attributes.")
        self.target = target
        self.label_smoothing = float(label_smoothing)
        self.task_weight = {str(k): float(v) for k, v in (task_weight or {}).items()}
        if target == "category":
            self.requires_outputs, self.requires_batch = (keys.CATEGORY_LOGITS,), (keys.CATEGORY,)
        else:
            self.requires_outputs = (keys.ATTRIBUTE_LOGITS,)
            self.requires_batch = (keys.ATTRIBUTES,)

    def _ce(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Mean cross-entropy over rows with a known label (−1: unknown); zero with grad if none."""
        known = labels >= 0
        if not known.any():
            return logits.sum() * 0.0
        return F.cross_entropy(logits[known], labels[known], label_smoothing=self.label_smoothing)

    def forward(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> Tensor:
        self.check_inputs(outputs, batch)
        if self.target == "category":
            logits = outputs[keys.CATEGORY_LOGITS]
            return self._ce(logits, torch.as_tensor(batch[keys.CATEGORY]).to(logits.device))
        logits_by_task: Mapping[str, Tensor] = outputs[keys.ATTRIBUTE_LOGITS]
        targets: Mapping[str, Tensor] = batch[keys.ATTRIBUTES]
        unknown = sorted(set(self.task_weight) - set(logits_by_task))
        if unknown:
            raise ConfigError(
                f"cross_entropy task_weight names unknown task(s) {unknown}; the model's "
                f"attribute tasks are {sorted(logits_by_task)}."
            )
        total: Tensor | None = None
        for task, logits in logits_by_task.items():
            if task not in targets:
                raise ConfigError(
                    f"cross_entropy: the batch has no attribute labels for task {task!r}; it has "
                    f"{sorted(targets)}."
                )
            term = self.task_weight.get(task, 1.0) * self._ce(
                logits, _class_of(task, targets[task]).to(logits.device)
            )
            total = term if total is None else total + term
        if total is None:
            raise ConfigError("cross_entropy: the model produced no attribute tasks.")
        return total


def _class_of(task: str, rows: Tensor) -> Tensor:
    """Class index of each one-hot row; −1 for a missing (all −1) row."""
    rows = torch.as_tensor(rows)
    missing = (rows < 0).all(dim=1)
    positives = (rows > 0).sum(dim=1)
    if ((positives != 1) & ~missing).any():
        raise DataError(
            f"cross_entropy needs single-label rows for attribute task {task!r}, but some labelled "
            "rows have no or several positive values; use weighted_multilabel for multi-label "
            "tasks."
        )
    return rows.argmax(dim=1).masked_fill(missing, -1).long()
