"""Baselines of the papers' comparison tables.

* ``wtbi`` (Where To Buy It, Kiapour et al. 2015): penultimate backbone features with a small
  embedding, trained with the triplet loss; freeze the backbone with the ``freeze_backbone``
  callback for the frozen-feature variant.
* ``darn`` (Huang et al. 2015, dual attribute-aware ranking network): two backbones with unshared
  weights, one per domain (shop, consumer), + triplet loss.
"""

from __future__ import annotations

from typing import Any, ClassVar

from clothret.lightning_modules.retrieval_module import RetrievalModule
from clothret.registry import register


@register("module", "wtbi")
class WTBI(RetrievalModule):
    """Backbone features + L2-normalised embedding, triplet-trained (WTBI baseline)."""

    default_heads: ClassVar[dict[str, Any]] = {
        "embedding": {"name": "embedding", "dim": 256, "normalize": True},
    }


@register("module", "darn")
class DARN(RetrievalModule):
    """Unshared shop and consumer backbones + embedding, triplet-trained (DARN baseline)."""

    default_heads: ClassVar[dict[str, Any]] = {
        "embedding": {"name": "embedding", "dim": 256, "normalize": True},
    }

    def __init__(self, shared_backbone: bool = False, **kwargs: Any) -> None:
        super().__init__(shared_backbone=shared_backbone, **kwargs)
