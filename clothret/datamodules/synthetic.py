"""The ``synthetic`` datamodule: the package's generated sample data, cached on disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.base import ManifestDataModule
from clothret.datamodules.manifest import read_manifest_file
from clothret.registry import register

COMPLETE_MARKER = ".clothret-complete"  # written after a full generation


def default_root(seed: int, num_items: int | None, image_size: int | None) -> Path:
    """``$CLOTHRET_CACHE/sample-data/seed<seed>[-n<items>][-s<size>]`` (cache default
    ``~/.cache/clothret``)."""
    cache = Path(os.environ.get("CLOTHRET_CACHE", "~/.cache/clothret")).expanduser()
    name = f"seed{seed}" + (f"-n{num_items}" if num_items else "")
    return cache / "sample-data" / (name + (f"-s{image_size}" if image_size else ""))


@register("datamodule", "synthetic")
class SyntheticDataModule(ManifestDataModule):
    """Generated clothing-like images with items, categories and attributes.

    Generated once per (seed, num_items, image_size) by
    ``clothret.sample_data.generate_sample_data`` in ``prepare_data`` (or at ``setup``).

    Args:
        root: where the data lives (default: a cache folder, see :func:`default_root`).
        num_items: number of generated items (None: the generator's default).
        image_size: generated image side in pixels (None: the generator's default).
        **kwargs: :class:`~clothret.datamodules.base.ManifestDataModule` params (``seed``
            seeds the generator too).
    """

    def __init__(
        self,
        root: str | None = None,
        num_items: int | None = None,
        image_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(root=root, **kwargs)
        self.num_items, self.image_size = num_items, image_size
        if self.root is None:
            self.root = default_root(self.seed, num_items, image_size)
        self.source = f"sample data '{self.root}'"

    def prepare_data(self) -> None:
        self.ensure_data()

    def ensure_data(self) -> Path:
        """The manifest path, generating the data first if it is not complete."""
        assert self.root is not None
        manifest = self.root / "manifest.csv"
        if manifest.is_file() and (self.root / COMPLETE_MARKER).is_file():
            return manifest
        from clothret.sample_data import generate_sample_data

        options = {"num_items": self.num_items, "image_size": self.image_size}
        options = {k: v for k, v in options.items() if v is not None}
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = Path(generate_sample_data(self.root, seed=self.seed, **options))
        (self.root / COMPLETE_MARKER).touch()
        return manifest

    def read_manifest(self) -> pd.DataFrame:
        return read_manifest_file(self.ensure_data())
