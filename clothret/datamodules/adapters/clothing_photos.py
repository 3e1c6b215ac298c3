"""The CC0 "clothing dataset" of consumer photos (garments photographed at home).

Expected layout under ``root``::

    images.csv        image,sender_id,label,kids   (image = file stem, kids = True/False)
    images/<image>.jpg

Each photo is its own item (no product identity), so relevance is at category level; the category
is ``label`` and ``kids`` becomes the attribute task ``kids``. The train/query/gallery split is
drawn per photo, seeded and stratified by label. Labels that are not garment categories ("Not sure",
"Other" by default) can be excluded; they and photos without a file are dropped with a report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.adapters.common import (
    dataset_root,
    drop_missing_images,
    finish,
    report_rows,
    require_file,
)
from clothret.datamodules.adapters.splits import check_fractions, split_items
from clothret.datamodules.base import ManifestDataModule
from clothret.errors import DataError
from clothret.registry import register

COLUMNS = ("image", "sender_id", "label", "kids")
DEFAULT_EXCLUDED = ("Not sure", "Other")
DEFAULT_FRACTIONS = {"train": 0.6, "query": 0.2, "gallery": 0.2}


def read_clothing_photos(
    root: str | Path,
    exclude_labels: Sequence[str] = DEFAULT_EXCLUDED,
    split_fractions: Mapping[str, float] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Manifest of the clothing photo dataset at ``root`` (layout in the module docstring).

    Args:
        root: folder holding ``images.csv`` and ``images/``.
        exclude_labels: labels whose photos are dropped.
        split_fractions: fraction of photos per split (default train 0.6, query 0.2, gallery 0.2).
        seed: seed of the split.
    """
    fractions = check_fractions(split_fractions or DEFAULT_FRACTIONS)
    root = dataset_root(root, "images.csv and images/ of the clothing dataset")
    table = pd.read_csv(
        require_file(root / "images.csv", "images.csv"), dtype=str, keep_default_na=False
    )
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"images.csv has no column {missing[0]!r}; expected {','.join(COLUMNS)}.")
    repeated = table["image"].duplicated()
    if repeated.any():
        raise DataError(
            f"images.csv lists image {table.loc[repeated, 'image'].iloc[0]!r} twice; "
            "each photo must appear once."
        )
    frame = pd.DataFrame({
        "path": [str(root / "images" / f"{i}.jpg") for i in table["image"]],
        "item_id": table["image"], "category": table["label"], "domain": "consumer",
        "attr_kids": table["kids"],
    })  # fmt: skip
    dropped = frame["category"].isin(list(exclude_labels)) | (frame["category"].str.strip() == "")
    report_rows("dropped: label excluded or empty", frame.loc[dropped, "category"])
    frame = drop_missing_images(frame[~dropped])
    frame["split"] = split_items(frame["item_id"], frame["category"], fractions, seed).to_numpy()
    return finish(frame)


@register("datamodule", "clothing_photos")
class ClothingPhotosDataModule(ManifestDataModule):
    """CC0 clothing photos: category-level retrieval among consumer photos.

    Args:
        root: folder holding ``images.csv`` and ``images/``.
        exclude_labels: labels whose photos are dropped (default "Not sure" and "Other").
        split_fractions: fraction of photos per split (train/query/gallery, optional val_*).
        split_seed: seed of the split (the base's ``seed`` drives the samplers).
        relevance: what makes a gallery image relevant; ``category`` (no item identity here).
        **kwargs: the :class:`ManifestDataModule` params.
    """

    source = "clothing_photos"

    def __init__(
        self,
        root: str = "data/clothing_photos",
        exclude_labels: list[str] | None = None,
        split_fractions: dict[str, float] | None = None,
        split_seed: int = 0,
        relevance: str = "category",
        **kwargs: Any,
    ) -> None:
        check_fractions(split_fractions or DEFAULT_FRACTIONS)
        super().__init__(root=root, relevance=relevance, **kwargs)
        self.split_fractions, self.split_seed = split_fractions, split_seed
        self.exclude_labels = list(DEFAULT_EXCLUDED if exclude_labels is None else exclude_labels)

    def read_manifest(self) -> pd.DataFrame:
        return read_clothing_photos(
            self.root, self.exclude_labels, self.split_fractions, self.split_seed
        )
