"""Hash heads: an h-bit fully connected latent layer whose activations binarise to codes."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from clothret import keys
from clothret.heads.base import Head, vector_dim
from clothret.registry import register


class HashHead(Head):
    """Linear layer to ``bits`` units and a squashing activation; ``binarize`` gives codes."""

    default_input = keys.FEATURES
    output_key = keys.HASH
    threshold: float

    def __init__(
        self, in_dim: int | Sequence[int], bits: int = 128, input: str | None = None
    ) -> None:
        super().__init__(input)
        self.out_dim = int(bits)
        self.linear = nn.Linear(vector_dim(in_dim, self.input), self.out_dim)

    def activation(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.linear(x))

    def binarize(self, h: Tensor) -> Tensor:
        """Codes in {0, 1} (bool) from the continuous activations: ``h > threshold``."""
        return h > self.threshold


@register("head", "latent_hash")
class LatentHashHead(HashHead):
    """Lin et al. (2015) latent layer: sigmoid activations in [0, 1], codes ``h > 0.5``.

    Args:
        in_dim: size of the input (injected); in Lin et al. the F7-like embedding.
        bits: code length h (128 in the paper).
        input: output read instead of ``FEATURES`` (``embedding`` for Lin et al.).
    """

    threshold = 0.5

    def activation(self, x: Tensor) -> Tensor:
        return torch.sigmoid(x)


@register("head", "tanh_hash")
class TanhHashHead(HashHead):
    """Hash layer with tanh activations in [-1, 1] and codes ``sign(h)`` (``h > 0``).

    The contrastive hash loss's regulariser pulls the activations towards ±1 so that taking
    the sign loses little (street-to-shop parsing and hashing).

    Args:
        in_dim: size of the input (injected).
        bits: code length.
        input: output read instead of ``FEATURES``.
    """

    threshold = 0.0

    def activation(self, x: Tensor) -> Tensor:
        return torch.tanh(x)
