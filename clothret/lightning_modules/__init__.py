"""LightningModules registered in the ``module`` group: the base module and method presets."""

from clothret.lightning_modules import retrieval_module  # noqa: F401
from clothret.lightning_modules.presets import (  # noqa: F401
    baselines,
    clothingnet,
    latent_hash,
    multitask_hash,
    multiweight,
)
from clothret.lightning_modules.retrieval_module import RetrievalModule

__all__ = ["RetrievalModule"]
