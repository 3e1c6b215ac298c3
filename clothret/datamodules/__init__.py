"""DataModules (``datamodule`` group): manifest base, generic readers, dataset adapters, samplers.

Every registered datamodule is a :class:`ManifestDataModule` subclass that overrides
``read_manifest``; the imports below register them.
"""

from clothret.datamodules import (  # noqa: F401  (each import registers its datamodules)
    adapters,
    image_folder,
    manifest_datamodule,
    samplers,
    synthetic,
)
from clothret.datamodules.base import ManifestDataModule
from clothret.datamodules.dataset import ManifestDataset
from clothret.datamodules.vocab import Vocab

__all__ = ["ManifestDataModule", "ManifestDataset", "Vocab"]
