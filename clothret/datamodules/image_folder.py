"""The ``image_folder`` datamodule: ``root/<category>/<item>/*.jpg`` or ``root/<category>/*.jpg``.

With item folders, relevance is by item and each evaluation item's images are divided between
query and gallery; with images directly in category folders, each image is its own item and
relevance is by category. Items are split into train and evaluation per category (stratified),
deterministically from ``seed``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clothret.datamodules.base import ManifestDataModule
from clothret.errors import ConfigError, DataError
from clothret.registry import register

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def _images(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


@register("datamodule", "image_folder")
class ImageFolderDataModule(ManifestDataModule):
    """A folder tree of images, split by item into train / query / gallery.

    Args:
        root: the folder holding one sub-folder per category.
        train_fraction: share of each category's items used for training (rounded down, but
            at least one item on each side when the category has two).
        query_fraction: share of evaluation images used as queries, per item with item
            folders, per category without (rounded down, at least one query and one gallery
            image where there are two).
        domain: the ``domain`` of every image (``shop`` or ``consumer``).
        relevance: ``item`` / ``category``; default from the layout (see the module doc).
        **kwargs: :class:`~clothret.datamodules.base.ManifestDataModule` params.
    """

    def __init__(
        self,
        root: str,
        train_fraction: float = 0.7,
        query_fraction: float = 0.5,
        domain: str = "shop",
        relevance: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(root=root, relevance=relevance or "item", **kwargs)
        for name, value in (("train_fraction", train_fraction), ("query_fraction", query_fraction)):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"data.{name}={value} must be between 0 and 1.")
        self.train_fraction, self.query_fraction = float(train_fraction), float(query_fraction)
        self.domain, self._auto_relevance = domain, relevance is None
        self.source = f"image folder '{root}'"

    def read_manifest(self) -> pd.DataFrame:
        assert self.root is not None
        if not self.root.is_dir():
            raise DataError(f"Image folder not found: '{self.root}'; set data.root.")
        categories = sorted(p for p in self.root.iterdir() if p.is_dir())
        nested = any(p.is_dir() for c in categories for p in c.iterdir())
        if self._auto_relevance:
            self._relevance = "item" if nested else "category"
        rng = np.random.default_rng(self.seed)
        rows: list[dict[str, str]] = []
        for category in categories:
            if nested:
                items = {
                    f"{category.name}/{d.name}": _images(d)
                    for d in sorted(category.iterdir())
                    if d.is_dir()
                }
            else:
                items = {f"{category.name}/{p.name}": [p] for p in _images(category)}
            rows += self._split_category(category.name, items, nested, rng)
        if not rows:
            raise DataError(
                f"No images under '{self.root}'; expected root/<category>/<item>/*.jpg or "
                f"root/<category>/*.jpg ({', '.join(IMAGE_EXTENSIONS)})."
            )
        return pd.DataFrame(rows)

    def _split_category(
        self, category: str, items: dict[str, list[Path]], nested: bool, rng: np.random.Generator
    ) -> list[dict[str, str]]:
        names = [n for n in items if items[n]]
        names = [names[i] for i in rng.permutation(len(names))]
        n_train = math.floor(self.train_fraction * len(names))
        if len(names) >= 2:  # keep both sides of a category whenever possible
            n_train = min(max(n_train, 1), len(names) - 1)
        roles: list[tuple[str, Path, str]] = [
            (n, p, "train") for n in names[:n_train] for p in items[n]
        ]
        evaluation = names[n_train:]
        if nested:
            for name in evaluation:
                images = [items[name][i] for i in rng.permutation(len(items[name]))]
                roles += [
                    (name, p, s)
                    for p, s in zip(
                        images, _query_split(len(images), self.query_fraction), strict=True
                    )
                ]
        else:
            splits = _query_split(len(evaluation), self.query_fraction)
            roles += [(n, items[n][0], s) for n, s in zip(evaluation, splits, strict=True)]
        return [
            {
                "path": str(path.relative_to(self.root)),
                "item_id": name,
                "category": category,
                "domain": self.domain,
                "split": split,
            }
            for name, path, split in roles
        ]


def _query_split(n: int, fraction: float) -> list[str]:
    """``n`` roles: ``fraction`` queries rounded down, at least one query and one gallery image
    when n >= 2."""
    # A lone image is a gallery distractor.
    n_query = min(max(math.floor(fraction * n), 1), n - 1) if n >= 2 else 0
    return ["query"] * n_query + ["gallery"] * (n - n_query)
