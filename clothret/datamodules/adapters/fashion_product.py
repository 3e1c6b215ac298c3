"""Fashion Product Images (the Myntra catalogue, full or "small"), read from ``styles.csv``.

Expected layout under ``root``::

    styles.csv         id,gender,masterCategory,subCategory,articleType,baseColour,season,year,
                       usage,productDisplayName
    images/<id>.jpg

One studio photo per product and no item identity: each image is its own item, a gallery image is
relevant to a query of the same category (relevance ``category``), and the train/query/gallery
split is drawn per image, seeded and stratified by category. Any column can be the category or an
attribute task (``attr_<column>``); the literal "NA" is a value and an empty field a missing label.
Rows without an image file or without a category are dropped with a report.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
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
from clothret.errors import ConfigError, DataError
from clothret.registry import register

DEFAULT_ATTRIBUTES = ("gender", "masterCategory", "subCategory", "baseColour", "season", "usage")
DEFAULT_FRACTIONS = {"train": 0.6, "query": 0.2, "gallery": 0.2}


def read_styles(path: Path) -> pd.DataFrame:
    """``styles.csv`` as strings, extra commas kept inside the last column.

    Read with the csv module rather than pandas because some published rows have unquoted commas
    in ``productDisplayName`` (more fields than the header); those fields are joined back into the
    last column. No value is turned into NaN ("NA" is a usage value).
    """
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DataError(f"{str(path)!r} is empty; expected a header line and one row per product.")
    header, width = rows[0], len(rows[0])
    fixed = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < width:
            raise DataError(
                f"{str(path)!r} line {number} has {len(row)} fields; the header has "
                f"{width} ({','.join(header)})."
            )
        fixed.append([*row[: width - 1], ",".join(row[width - 1 :])])
    return pd.DataFrame(fixed, columns=header, dtype=str)


def read_fashion_product(
    root: str | Path,
    category_column: str = "articleType",
    attribute_columns: list[str] | tuple[str, ...] = DEFAULT_ATTRIBUTES,
    split_fractions: Mapping[str, float] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Manifest of Fashion Product Images at ``root`` (layout in the module docstring).

    Args:
        root: folder holding ``styles.csv`` and ``images/``.
        category_column: the ``styles.csv`` column used as category.
        attribute_columns: columns that become attribute tasks ``attr_<column>``.
        split_fractions: fraction of images per split (default train 0.6, query 0.2, gallery 0.2).
        seed: seed of the split.
    """
    fractions = check_fractions(split_fractions or DEFAULT_FRACTIONS)
    root = dataset_root(root, "styles.csv and images/ of Fashion Product Images")
    styles = read_styles(require_file(root / "styles.csv", "styles.csv"))
    missing = [c for c in ("id", category_column, *attribute_columns) if c not in styles.columns]
    if missing:
        raise ConfigError(
            f"styles.csv has no column {missing[0]!r}; columns: {', '.join(styles.columns)}."
        )
    repeated = styles["id"].duplicated()
    if repeated.any():
        raise DataError(
            f"styles.csv lists id {styles.loc[repeated, 'id'].iloc[0]!r} twice; "
            "each product must appear once."
        )
    frame = pd.DataFrame({
        "path": [str(root / "images" / f"{i}.jpg") for i in styles["id"]],
        "item_id": styles["id"], "category": styles[category_column], "domain": "shop",
        **{f"attr_{c}": styles[c] for c in attribute_columns},
    })  # fmt: skip
    empty = frame["category"].str.strip() == ""
    report_rows(f"dropped: empty {category_column}", frame.loc[empty, "item_id"])
    frame = drop_missing_images(frame[~empty])
    frame["split"] = split_items(frame["item_id"], frame["category"], fractions, seed).to_numpy()
    return finish(frame)


@register("datamodule", "fashion_product")
class FashionProductDataModule(ManifestDataModule):
    """Fashion Product Images: category-level retrieval among studio product photos.

    Args:
        root: folder holding ``styles.csv`` and ``images/``.
        category_column: the ``styles.csv`` column used as category.
        attribute_columns: columns used as attribute tasks.
        split_fractions: fraction of images per split (train/query/gallery, optional val_*).
        split_seed: seed of the split (the base's ``seed`` drives the samplers).
        relevance: what makes a gallery image relevant; ``category`` (no item identity here).
        **kwargs: the :class:`ManifestDataModule` params.
    """

    source = "fashion_product"

    def __init__(
        self,
        root: str = "data/fashion_product",
        category_column: str = "articleType",
        attribute_columns: list[str] | None = None,
        split_fractions: dict[str, float] | None = None,
        split_seed: int = 0,
        relevance: str = "category",
        **kwargs: Any,
    ) -> None:
        check_fractions(split_fractions or DEFAULT_FRACTIONS)
        super().__init__(root=root, relevance=relevance, **kwargs)
        self.category_column, self.split_seed = category_column, split_seed
        self.attribute_columns = list(
            DEFAULT_ATTRIBUTES if attribute_columns is None else attribute_columns
        )
        self.split_fractions = split_fractions

    def read_manifest(self) -> pd.DataFrame:
        return read_fashion_product(
            self.root,
            self.category_column,
            self.attribute_columns,
            self.split_fractions,
            self.split_seed,
        )
