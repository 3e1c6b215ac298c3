"""Lin et al. 2015, "Rapid clothing retrieval via deep learning of binary codes and hierarchical
search": backbone → F7-like layer → h-bit sigmoid latent layer → softmax over categories.

Trained with a classification loss only (``loss: cross_entropy``); retrieval uses the F7-like
float features, the binary codes (latent activations > 0.5) and the coarse-to-fine search.
"""

from __future__ import annotations

from typing import Any, ClassVar

from clothret import keys
from clothret.lightning_modules.retrieval_module import RetrievalModule
from clothret.registry import register


@register("module", "latent_hash")
class LatentHash(RetrievalModule):
    """Lin et al. 2015: F7-like features + 128-bit sigmoid latent hash layer + category softmax."""

    default_heads: ClassVar[dict[str, Any]] = {
        "embedding": {"name": "embedding", "dim": 512, "activation": "relu", "normalize": False},
        "hash": {"name": "latent_hash", "bits": 128, "input": keys.EMBEDDING},
        "classifier": {"name": "classifier", "input": keys.HASH},
    }

    def __init__(self, eval_feature: str | None = keys.EMBEDDING, **kwargs: Any) -> None:
        super().__init__(eval_feature=eval_feature, **kwargs)
