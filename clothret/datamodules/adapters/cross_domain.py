"""Cross-domain retrieval: queries from one dataset, gallery from another, joined by category.

The two sides are any registered datamodules (typically ``clothing_photos`` consumer photos and
``fashion_product`` shop photos). A mapping CSV puts both label sets onto shared coarse categories::

    coarse_category,<query-side label>,<gallery-side label>     (header names are free)
    tshirt_top,T-Shirt,Tshirts
    trousers,,Trousers          an empty cell only adds the other side's label

The manifest's ``category`` is the coarse category; rows whose label is not in the mapping are
dropped with a report. Queries are the query side's ``query``/``val_query`` rows, the gallery the
gallery side's ``gallery``/``val_gallery`` rows, and training rows come from the sides named by
``train_from``. Item ids are prefixed with ``query:``/``gallery:`` so the two sides never share an
item; relevance is the coarse category.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.adapters.common import finish, report_rows, require_file
from clothret.datamodules.base import ManifestDataModule
from clothret.errors import ConfigError, DataError
from clothret.registry import build, register

TRAIN_FROM = ("both", "query", "gallery", "none")
SIDE_SPLITS = {"query": ("query", "val_query"), "gallery": ("gallery", "val_gallery")}


def read_mapping(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """Query-side label → coarse category, and gallery-side label → coarse category."""
    table = pd.read_csv(
        require_file(Path(path), "category mapping CSV"), dtype=str, keep_default_na=False
    )
    if table.shape[1] < 3:
        raise DataError(
            f"{str(path)!r} needs three columns: coarse category, query-side label, "
            "gallery-side label."
        )
    sides: tuple[dict[str, str], dict[str, str]] = ({}, {})
    for number, row in enumerate(table.iloc[:, :3].itertuples(index=False), start=2):
        coarse, *labels = (str(cell).strip() for cell in row)
        if not coarse or not any(labels):
            raise DataError(f"{str(path)!r} line {number} needs a coarse category and a label.")
        for side, label in zip(sides, labels, strict=True):
            if label and side.setdefault(label, coarse) != coarse:
                raise DataError(
                    f"{str(path)!r} line {number} maps {label!r} to {coarse!r}, "
                    f"but an earlier line maps it to {side[label]!r}."
                )
    return sides


def combine_cross_domain(
    query_frame: pd.DataFrame,
    gallery_frame: pd.DataFrame,
    mapping: str | Path,
    train_from: str = "both",
) -> pd.DataFrame:
    """Manifest joining the query side's queries and the gallery side's gallery by coarse category.

    Args:
        query_frame: manifest of the query side (its ``query``/``val_query`` rows are used).
        gallery_frame: manifest of the gallery side (its ``gallery``/``val_gallery`` rows).
        mapping: CSV of coarse category, query-side label, gallery-side label.
        train_from: which sides' ``train`` rows are kept: both, query, gallery or none.
    """
    if train_from not in TRAIN_FROM:
        raise ConfigError(f"train_from must be one of {', '.join(TRAIN_FROM)}, got {train_from!r}.")
    frames = []
    for side, frame, labels in zip(
        SIDE_SPLITS, (query_frame, gallery_frame), read_mapping(mapping), strict=True
    ):
        keep = frame["split"].isin(SIDE_SPLITS[side])
        if train_from in ("both", side):
            keep |= frame["split"] == "train"
        frame = frame[keep]
        known = frame["category"].isin(labels)
        report_rows(
            f"dropped: {side}-side label not in the mapping {str(mapping)!r}",
            frame.loc[~known, "category"],
        )
        frame = frame[known].assign(
            category=lambda f, m=labels: f["category"].map(m),
            item_id=lambda f, s=side: s + ":" + f["item_id"].astype(str),
        )  # fmt: skip
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True)
    attributes = [c for c in combined.columns if c.startswith("attr_")]
    return finish(combined.fillna(dict.fromkeys(attributes, "")))


@register("datamodule", "cross_domain")
class CrossDomainDataModule(ManifestDataModule):
    """Queries from one datamodule, gallery from another, relevant by shared coarse category.

    Args:
        query: datamodule node (``{name: clothing_photos, root: ...}``) or built datamodule
            whose query rows are the queries.
        gallery: datamodule node or built datamodule whose gallery rows are the gallery.
        mapping: CSV of coarse category, query-side label, gallery-side label.
        train_from: sides whose training rows are used: both, query, gallery or none.
        relevance: what makes a gallery image relevant; ``category`` (the coarse category).
        **kwargs: the :class:`ManifestDataModule` params.
    """

    source = "cross_domain"

    def __init__(
        self,
        query: Mapping[str, Any] | ManifestDataModule | None = None,
        gallery: Mapping[str, Any] | ManifestDataModule | None = None,
        mapping: str = "data/cross-domain-categories.csv",
        train_from: str = "both",
        relevance: str = "category",
        **kwargs: Any,
    ) -> None:
        if train_from not in TRAIN_FROM:
            raise ConfigError(
                f"train_from must be one of {', '.join(TRAIN_FROM)}, got {train_from!r}."
            )
        super().__init__(relevance=relevance, **kwargs)
        self.query_source = side_module(query, "query", "clothing_photos")
        self.gallery_source = side_module(gallery, "gallery", "fashion_product")
        self.mapping, self.train_from = mapping, train_from

    def read_manifest(self) -> pd.DataFrame:
        return combine_cross_domain(
            side_manifest(self.query_source),
            side_manifest(self.gallery_source),
            self.mapping,
            self.train_from,
        )


def side_manifest(module: ManifestDataModule) -> pd.DataFrame:
    """A side's manifest with paths made absolute against that side's ``root``."""
    frame = module.read_manifest()
    if module.root is None:
        return frame
    paths = [p if os.path.isabs(p) else os.path.join(module.root, p) for p in frame["path"]]
    return frame.assign(path=paths)


def side_module(node: Any, at: str, default: str) -> ManifestDataModule:
    """The datamodule of one side: built from its node, or given already built."""
    if isinstance(node, ManifestDataModule):
        return node
    return build("datamodule", node if node is not None else {"name": default}, at=at)
