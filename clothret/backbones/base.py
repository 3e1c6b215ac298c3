"""The interface every backbone implements: images in, pooled features (and maps) out."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


class Backbone(nn.Module):
    """Base class of the ``backbone`` group.

    A backbone maps images ``[B, 3, H, W]`` to an output dict holding ``FEATURES`` (pooled,
    ``[B, feat_dim]``) and, when intermediate levels were requested, ``FEATURE_MAPS`` (a list
    of ``[B, C_i, H_i, W_i]`` maps with ``C_i = level_dims[i]``).

    Attributes:
        feat_dim: size of ``FEATURES``.
        level_dims: channels of each requested intermediate level (``[]`` if none).
        data_config: timm data config (``input_size``, ``mean``, ``std``, ``interpolation``,
            ``crop_pct``, ``crop_mode``) that the datamodule builds its transforms from.
    """

    feat_dim: int
    level_dims: list[int]
    data_config: dict[str, Any]

    def __init__(self) -> None:
        super().__init__()
        self.level_dims = []
        self.frozen = False

    def forward(self, images: Tensor) -> dict[str, Any]:
        raise NotImplementedError

    def freeze(self) -> None:
        """Stop training every parameter and keep normalisation layers in eval mode.

        A frozen backbone is a fixed feature extractor (e.g. the WTBI baseline with frozen
        penultimate features); BatchNorm running statistics must not drift either, so
        ``train()`` leaves it in eval mode.
        """
        self.frozen = True
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> Backbone:
        return super().train(mode and not self.frozen)
