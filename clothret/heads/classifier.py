"""Category classifier: a linear layer over any vector output."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from clothret import keys
from clothret.errors import ConfigError
from clothret.heads.base import Head, vector_dim
from clothret.registry import register


@register("head", "classifier")
class ClassifierHead(Head):
    """Category logits ``[B, num_categories]`` (softmax is the loss's business).

    Args:
        in_dim: size of the input (injected).
        num_categories: number of categories of the training vocabulary (injected).
        dropout: dropout probability on the input.
        input: output read instead of ``FEATURES`` (``hash`` puts the classifier on the codes,
            as Lin et al.'s F8 layer).
    """

    default_input = keys.FEATURES
    output_key = keys.CATEGORY_LOGITS

    def __init__(
        self,
        in_dim: int | Sequence[int],
        num_categories: int | None = None,
        dropout: float = 0.0,
        input: str | None = None,
    ) -> None:
        super().__init__(input)
        if not num_categories or num_categories < 1:
            raise ConfigError(
                f"classifier head needs num_categories >= 1 (got {num_categories!r}); it is "
                "set from the datamodule's training categories, or give head.num_categories."
            )
        self.out_dim = int(num_categories)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.linear = nn.Linear(vector_dim(in_dim, self.input), self.out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.dropout(x))
