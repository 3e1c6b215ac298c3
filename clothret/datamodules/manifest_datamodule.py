"""The ``manifest`` datamodule: any CSV or Parquet file with the DESIGN §5 columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.base import ManifestDataModule
from clothret.datamodules.manifest import read_manifest_file
from clothret.registry import register


@register("datamodule", "manifest")
class ManifestFileDataModule(ManifestDataModule):
    """Reads a manifest file (``.csv``, or ``.parquet`` with pyarrow installed).

    Args:
        path: the manifest file.
        root: folder of relative image paths (default: the manifest's folder).
        **kwargs: :class:`~clothret.datamodules.base.ManifestDataModule` params.
    """

    def __init__(self, path: str, root: str | None = None, **kwargs: Any) -> None:
        manifest = Path(path).expanduser()
        super().__init__(root=str(manifest.parent) if root is None else root, **kwargs)
        self.path = manifest
        self.source = f"manifest '{manifest}'"

    def read_manifest(self) -> pd.DataFrame:
        return read_manifest_file(self.path)
