"""Category classifier: a linear layer (or a cosine classifier) over any vector output."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
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
        cosine_scale: if set, a cosine classifier (normalised softmax, NormFace): logits
            ``s·cos(x, w_c)`` with no bias. Softmax training then shapes the input's angles,
            which cosine retrieval ranks by; the plain linear layer (None) also rewards norms.
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
        cosine_scale: float | None = None,
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
        if cosine_scale is not None and cosine_scale <= 0:
            raise ConfigError(f"classifier cosine_scale must be positive, got {cosine_scale}.")
        self.cosine_scale = None if cosine_scale is None else float(cosine_scale)
        in_features = vector_dim(in_dim, self.input)
        self.linear = nn.Linear(in_features, self.out_dim, bias=self.cosine_scale is None)

    def forward(self, x: Tensor) -> Tensor:
        x = self.dropout(x)
        if self.cosine_scale is None:
            return self.linear(x)
        weight = F.normalize(self.linear.weight, dim=1)
        return self.cosine_scale * F.normalize(x, dim=1) @ weight.T
