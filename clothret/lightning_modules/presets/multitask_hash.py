"""Street-to-shop deep multi-label parsing and hashing: tanh hash codes trained with the
contrastive hash loss on pairs, plus a category classifier and one classifier per attribute
group with weight μ = 0.05 each (eq. 5); ``condition_on_category`` gives the catt2 variant.
"""

from __future__ import annotations

from typing import Any, ClassVar

from clothret import keys
from clothret.lightning_modules.retrieval_module import RetrievalModule
from clothret.registry import register

ATTRIBUTE_WEIGHT = 0.05  # μ of the paper, per attribute task


@register("module", "multitask_hash")
class MultitaskHash(RetrievalModule):
    """Tanh hash layer (contrastive hash loss) + category and attribute classification heads."""

    default_heads: ClassVar[dict[str, Any]] = {
        "hash": {"name": "tanh_hash", "bits": 128},
        "classifier": {"name": "classifier"},
        "attributes": {"name": "multitask", "multilabel": False},
    }
    default_aux_losses: ClassVar[dict[str, Any]] = {
        "category": {"name": "cross_entropy", "target": "category", "weight": 1.0},
        "attributes": {"name": "cross_entropy", "target": "attributes", "weight": ATTRIBUTE_WEIGHT},
    }

    def __init__(self, eval_feature: str | None = keys.HASH, **kwargs: Any) -> None:
        super().__init__(eval_feature=eval_feature, **kwargs)
