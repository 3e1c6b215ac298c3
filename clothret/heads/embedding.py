"""Embedding head: the retrieval vector, linear → optional BN → optional ReLU → optional L2."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from clothret import keys
from clothret.errors import ConfigError
from clothret.heads.base import Head, vector_dim
from clothret.registry import register

ACTIVATIONS = ("none", "relu")


@register("head", "embedding")
class EmbeddingHead(Head):
    """Project features to a ``dim``-d embedding.

    Args:
        in_dim: size of the input (injected).
        dim: embedding size.
        normalize: L2-normalise the embedding (distances then lie in [0, 2]).
        batchnorm: BatchNorm1d after the linear layer.
        activation: ``none`` or ``relu``; ``relu`` without normalisation makes the head an
            F7-like fully connected layer (Lin et al. put their hash layer after one).
        input: output read instead of ``FEATURES``.
    """

    default_input = keys.FEATURES
    output_key = keys.EMBEDDING

    def __init__(
        self,
        in_dim: int | Sequence[int],
        dim: int = 128,
        normalize: bool = True,
        batchnorm: bool = False,
        activation: str = "none",
        input: str | None = None,
    ) -> None:
        super().__init__(input)
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"head activation {activation!r} is not one of {', '.join(ACTIVATIONS)}."
            )
        self.out_dim = int(dim)
        self.normalize = normalize
        self.linear = nn.Linear(vector_dim(in_dim, self.input), self.out_dim)
        self.bn = nn.BatchNorm1d(self.out_dim) if batchnorm else nn.Identity()
        self.act = nn.ReLU() if activation == "relu" else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = self.act(self.bn(self.linear(x)))
        return F.normalize(x, dim=1) if self.normalize else x
