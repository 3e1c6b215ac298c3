"""The interface every head implements: read one model output, write another."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from torch import nn

from clothret import keys
from clothret.errors import ConfigError

# Outputs a head may read (``input``).
READABLE = (
    keys.FEATURES,
    keys.FEATURE_MAPS,
    keys.EMBEDDING,
    keys.HASH,
    keys.CATEGORY_LOGITS,
)


class Head(nn.Module):
    """Base class of the ``head`` group.

    A head reads the output ``self.input`` (its class's ``default_input`` unless the config sets
    ``input``) and its forward's result is stored under ``output_key``. ``in_dim``, the size of
    the output it reads, is injected at build time (a list of channels for ``FEATURE_MAPS``).

    Attributes:
        default_input: output read when ``input`` is not set.
        output_key: output written.
        out_dim: size of the written output (for the next head's ``in_dim``).
    """

    default_input: ClassVar[str] = keys.FEATURES
    output_key: ClassVar[str]
    out_dim: int

    def __init__(self, input: str | None = None) -> None:
        super().__init__()
        self.input = input or self.default_input
        if self.input not in READABLE:
            raise ConfigError(
                f"head input {self.input!r} is not an output a head can read; choose one of "
                f"{', '.join(READABLE)}."
            )

    def extra_repr(self) -> str:
        return f"input={self.input!r}, out_dim={self.out_dim}"


def head_input(node: Mapping[str, Any]) -> str:
    """The output a head node reads: its ``input``, else its class's ``default_input``.

    Needed before building, to inject the matching ``in_dim``.
    """
    from clothret.registry import get

    return node.get("input") or get("head", str(node["name"])).default_input


def vector_dim(in_dim: int | Sequence[int], input: str) -> int:
    """``in_dim`` of a head that reads a vector ``[B, D]``; a clear error for feature maps."""
    if isinstance(in_dim, int) and not isinstance(in_dim, bool):
        return in_dim
    raise ConfigError(
        f"This head reads vectors [B, D], but its input {input!r} has sizes {in_dim!r}; read "
        f"{keys.FEATURES!r} or {keys.EMBEDDING!r} instead, or put a fusion head first."
    )
