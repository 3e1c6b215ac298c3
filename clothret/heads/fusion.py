"""ClothingNet feature fusion: pooled mid- and high-level features, projected, joined, L2.

ClothingNet (IEEE Access 2020, §II-B) global-average-pools conv5_1, conv5_2 and conv5_3 of
ResNet-50, concatenates the first two pooled vectors as the middle-level feature and takes the
last as the high-level feature, reduces each to 512 dimensions by PCA, concatenates them and
L2-normalises the 1024-d result. Here the levels are whatever ``backbone.levels`` gives (all
but the last = middle, the last = high) and the reduction is a fitted PCA or a learned linear
layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from clothret import keys
from clothret.errors import ClothretError, ConfigError
from clothret.heads.base import Head
from clothret.registry import register

PROJECTIONS = ("linear", "pca")


class PCAProjection(nn.Module):
    """``(x - mean) @ components.T``, fitted by SVD; stored as buffers so checkpoints keep it."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("components", torch.zeros(out_dim, in_dim))
        self.register_buffer("fitted", torch.tensor(False))

    @torch.no_grad()
    def fit(self, x: Tensor) -> None:
        """Principal axes of the rows of ``x`` ``[N, in_dim]``, computed in float64."""
        out_dim = self.components.shape[0]
        if x.shape[0] < out_dim:
            raise ClothretError(
                f"PCA to {out_dim} dimensions needs at least {out_dim} samples, got "
                f"{x.shape[0]}; fit on more images or lower the head's mid_dim/high_dim."
            )
        x = x.double()
        mean = x.mean(dim=0)
        _, _, vh = torch.linalg.svd(x - mean, full_matrices=False)
        components = vh[:out_dim]
        # Deterministic signs: each axis's largest-magnitude coefficient is positive.
        pivot = components.gather(1, components.abs().argmax(dim=1, keepdim=True))
        components = components * torch.sign(pivot)
        self.mean.copy_(mean.to(self.mean.dtype))
        self.components.copy_(components.to(self.components.dtype))
        self.fitted.fill_(True)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) @ self.components.T


@register("head", "fusion")
class FusionHead(Head):
    """ClothingNet's fused embedding of size ``mid_dim + high_dim`` from ``FEATURE_MAPS``.

    Args:
        in_dim: channels of each feature map (injected from ``backbone.level_dims``); at least
            two levels, e.g. ResNet-50 ``levels: [layer4.0, layer4.1, layer4.2]``.
        mid_dim: size of the projected middle-level part (all levels but the last).
        high_dim: size of the projected high-level part (the last level).
        projection: ``linear`` (learned, trained with the loss) or ``pca`` (the paper's; call
            :meth:`fit` on feature maps before the first forward).
        normalize: L2-normalise the concatenation.
        input: output read instead of ``FEATURE_MAPS``.
    """

    default_input = keys.FEATURE_MAPS
    output_key = keys.EMBEDDING

    def __init__(
        self,
        in_dim: Sequence[int],
        mid_dim: int = 512,
        high_dim: int = 512,
        projection: str = "linear",
        normalize: bool = True,
        input: str | None = None,
    ) -> None:
        super().__init__(input)
        if isinstance(in_dim, int) or len(in_dim) < 2:
            raise ConfigError(
                f"fusion head needs at least two feature maps (middle and high level), got "
                f"{in_dim!r}; set backbone.levels, e.g. [layer4.0, layer4.1, layer4.2] for "
                "resnet50."
            )
        if projection not in PROJECTIONS:
            raise ConfigError(
                f"head.projection {projection!r} is not one of {', '.join(PROJECTIONS)}."
            )
        self.in_dims = [int(d) for d in in_dim]
        self.projection = projection
        self.normalize = normalize
        self.out_dim = int(mid_dim) + int(high_dim)
        mid_in, high_in = sum(self.in_dims[:-1]), self.in_dims[-1]
        layer = nn.Linear if projection == "linear" else PCAProjection
        self.mid = layer(mid_in, int(mid_dim))
        self.high = layer(high_in, int(high_dim))

    def pool(self, feature_maps: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        """Global-average-pooled middle-level (concatenated) and high-level features."""
        if [int(m.shape[1]) for m in feature_maps] != self.in_dims:
            raise ConfigError(
                f"fusion head was built for feature maps with {self.in_dims} channels, got "
                f"{[int(m.shape[1]) for m in feature_maps]}."
            )
        pooled = [m.mean(dim=(2, 3)) for m in feature_maps]
        return torch.cat(pooled[:-1], dim=1), pooled[-1]

    def fit(self, feature_maps_batches: Iterable[Sequence[Tensor]]) -> None:
        """Fit the PCA projections on the pooled features of every batch of feature maps."""
        if self.projection != "pca":
            raise ConfigError("fusion head fit() is only for projection: pca.")
        mids, highs = [], []
        with torch.no_grad():
            for maps in feature_maps_batches:
                mid, high = self.pool(maps)
                mids.append(mid.cpu())
                highs.append(high.cpu())
        self.mid.fit(torch.cat(mids).to(self.mid.mean.device))
        self.high.fit(torch.cat(highs).to(self.high.mean.device))

    @property
    def fitted(self) -> bool:
        """Whether the head can run: always for ``linear``, after :meth:`fit` for ``pca``."""
        return self.projection == "linear" or bool(self.mid.fitted and self.high.fitted)

    def forward(self, feature_maps: Sequence[Tensor]) -> Tensor:
        if not self.fitted:
            raise ClothretError(
                "fusion head with projection: pca is not fitted: call head.fit(batches of "
                "feature_maps) before the first forward, or use projection: linear."
            )
        mid, high = self.pool(feature_maps)
        fused = torch.cat([self.mid(mid), self.high(high)], dim=1)
        return F.normalize(fused, dim=1) if self.normalize else fused
