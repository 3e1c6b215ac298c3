"""Multi-task attribute head: one linear classifier per attribute group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from clothret import keys
from clothret.errors import ConfigError
from clothret.heads.base import Head, vector_dim
from clothret.registry import register


@register("head", "multitask")
class MultiTaskHead(Head):
    """Attribute logits, ``{task: [B, M_task]}``, one classifier per attribute group.

    The head outputs logits only; ``multilabel`` records which groups are read with a sigmoid
    per value (several values may hold, the multi-weight CNN's grouped sigmoid) and which with
    a softmax over the values (one value per image), as :meth:`probabilities` applies them.

    With ``condition_on_category`` the classifiers also see the predicted category
    distribution, ``softmax(category_logits)`` concatenated to the input (the street-to-shop
    paper's catt2 variant: some attribute values exist only for some categories). The module
    then calls ``head(x, category_logits=outputs[CATEGORY_LOGITS])``, so a ``classifier``
    head must come before this one. Gradients flow into the category classifier through the
    conditioning, as in the paper (its backward pass strengthens the category supervision),
    unless ``detach_category`` is set.

    Args:
        in_dim: size of the input (injected).
        attribute_dims: task -> number of values (injected from the datamodule's vocabulary).
        multilabel: groups using a sigmoid: ``true`` (all), ``false`` (none) or a list.
        dropout: dropout probability on the input.
        condition_on_category: concatenate ``softmax(category_logits)`` to the input.
        num_categories: size of the category logits (injected), needed when conditioning.
        detach_category: stop the attribute losses' gradients at the category logits.
        input: output read instead of ``FEATURES``.
    """

    default_input = keys.FEATURES
    output_key = keys.ATTRIBUTE_LOGITS

    def __init__(
        self,
        in_dim: int | Sequence[int],
        attribute_dims: Mapping[str, int] | None = None,
        multilabel: bool | Sequence[str] = True,
        dropout: float = 0.0,
        condition_on_category: bool = False,
        num_categories: int | None = None,
        detach_category: bool = False,
        input: str | None = None,
    ) -> None:
        super().__init__(input)
        if not attribute_dims:
            raise ConfigError(
                "multitask head needs attribute_dims (task -> number of values), set from the "
                "datamodule's attribute columns; the data has no attr_<task> columns."
            )
        self.tasks = [str(t) for t in attribute_dims]
        if isinstance(multilabel, bool):
            self.multilabel = tuple(self.tasks) if multilabel else ()
        else:
            unknown = [t for t in multilabel if t not in attribute_dims]
            if unknown:
                raise ConfigError(
                    f"head.multilabel names unknown attribute groups {unknown}; the groups are "
                    f"{', '.join(self.tasks)}."
                )
            self.multilabel = tuple(str(t) for t in multilabel)
        self.condition_on_category = condition_on_category
        self.detach_category = detach_category
        extra = 0
        if condition_on_category:
            if not num_categories:
                raise ConfigError(
                    "head.condition_on_category needs num_categories (the category classifier's "
                    "size), set from the datamodule or given as head.num_categories."
                )
            extra = int(num_categories)
        self.num_categories = extra
        width = vector_dim(in_dim, self.input) + extra
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        # A list, not a ModuleDict: task names such as "type" clash with nn.Module attributes.
        self.classifiers = nn.ModuleList(
            nn.Linear(width, int(attribute_dims[t])) for t in self.tasks
        )
        self.out_dim = sum(int(attribute_dims[t]) for t in self.tasks)

    def forward(self, x: Tensor, category_logits: Tensor | None = None) -> dict[str, Tensor]:
        if self.condition_on_category:
            if category_logits is None:
                raise ConfigError(
                    "multitask head with condition_on_category needs the category logits: put "
                    "a classifier head before it and pass category_logits=."
                )
            if self.detach_category:
                category_logits = category_logits.detach()
            x = torch.cat([x, category_logits.softmax(dim=1)], dim=1)
        x = self.dropout(x)
        return {task: layer(x) for task, layer in zip(self.tasks, self.classifiers, strict=True)}

    def probabilities(self, logits: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Sigmoid per value for multi-label groups, softmax over values for the others."""
        return {
            task: value.sigmoid() if task in self.multilabel else value.softmax(dim=1)
            for task, value in logits.items()
        }
