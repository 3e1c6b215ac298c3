"""ClothingNet (Miao et al. 2020): ResNet-50, mid-level (conv5_1, conv5_2) and high-level
(conv5_3) features pooled, projected to 512 + 512, concatenated and L2-normalised; trained with
the quadruplet loss. The backbone must expose the levels (``backbone.levels``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from clothret.lightning_modules.retrieval_module import RetrievalModule
from clothret.registry import register


@register("module", "clothingnet")
class ClothingNet(RetrievalModule):
    """Multi-level feature fusion (512 + 512, L2) for the quadruplet loss."""

    default_heads: ClassVar[dict[str, Any]] = {
        "embedding": {"name": "fusion", "mid_dim": 512, "high_dim": 512, "projection": "linear"},
    }
