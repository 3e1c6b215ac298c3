"""A small CNN that trains in seconds on a CPU: for smoke runs, tests and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch import Tensor, nn

from clothret import keys
from clothret.backbones.base import Backbone
from clothret.backbones.levels import LevelHooks
from clothret.errors import ConfigError
from clothret.registry import register


def _stage(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU layers; the first halves the resolution."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


@register("backbone", "tiny_convnet")
class TinyConvNet(Backbone):
    """Stages of strided convolutions, then global average pooling (no pretrained weights).

    Args:
        widths: channels of each stage; each stage halves the resolution.
        levels: stage outputs returned as ``FEATURE_MAPS``: stage indices (negative allowed)
            or submodule names (``stages.1``, ``stages.2.3``).
        img_size: input resolution written into ``data_config["input_size"]``.
        freeze: fixed feature extractor (no gradients, BatchNorm in eval mode).
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64),
        levels: Sequence[int | str] | None = None,
        img_size: int = 64,
        freeze: bool = False,
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if not widths:
            raise ConfigError("backbone.widths must list at least one stage width.")
        self.stages = nn.Sequential(
            *(_stage(c_in, c_out) for c_in, c_out in zip([3, *widths[:-1]], widths, strict=True))
        )
        self.feat_dim = widths[-1]
        self.data_config: dict[str, Any] = {
            "input_size": (3, int(img_size), int(img_size)),
            "interpolation": "bilinear",
            "mean": IMAGENET_DEFAULT_MEAN,
            "std": IMAGENET_DEFAULT_STD,
            "crop_pct": 1.0,
            "crop_mode": "center",
        }
        self._hooks: LevelHooks | None = None
        if levels:
            names = [self._level_name(level, len(widths)) for level in levels]
            self._hooks = LevelHooks(self, names)
            blank = torch.zeros(1, *self.data_config["input_size"])
            self.level_dims = self._hooks.dims(self, lambda: self._pooled(blank))
        if freeze:
            self.freeze()

    @staticmethod
    def _level_name(level: int | str, n: int) -> str:
        if isinstance(level, str):
            return level
        if not -n <= level < n:
            raise ConfigError(f"backbone.levels: stage {level} out of range for {n} stages.")
        return f"stages.{level % n}"

    def _pooled(self, images: Tensor) -> Tensor:
        return self.stages(images).mean(dim=(2, 3))

    def forward(self, images: Tensor) -> dict[str, Any]:
        if self._hooks is None:
            return {keys.FEATURES: self._pooled(images)}
        features, maps = self._hooks.capture(lambda: self._pooled(images))
        return {keys.FEATURES: features, keys.FEATURE_MAPS: maps}
