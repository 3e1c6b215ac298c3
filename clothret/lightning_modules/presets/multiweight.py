"""Multi-weight CNN (Li et al.): a shared representation (F7-like) and one grouped sigmoid
multi-label head per task, trained with γ_t-weighted losses (γ from smoothed label ratios).
Retrieval uses the shared representation; mAP@k is reported per task.
"""

from __future__ import annotations

from typing import Any, ClassVar

from clothret import keys
from clothret.lightning_modules.retrieval_module import RetrievalModule
from clothret.registry import register


@register("module", "multiweight")
class MultiWeight(RetrievalModule):
    """Shared embedding + per-task sigmoid multi-label heads (loss: weighted_multilabel)."""

    default_heads: ClassVar[dict[str, Any]] = {
        "embedding": {"name": "embedding", "dim": 512, "activation": "relu", "normalize": False},
        "attributes": {"name": "multitask", "multilabel": True, "input": keys.EMBEDDING},
    }

    def __init__(self, eval_feature: str | None = keys.EMBEDDING, **kwargs: Any) -> None:
        super().__init__(eval_feature=eval_feature, **kwargs)
