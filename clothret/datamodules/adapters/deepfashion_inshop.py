"""DeepFashion In-shop Clothes Retrieval, read as published.

Expected layout under ``root``::

    img/<GENDER>/<Category>/id_XXXXXXXX/NN_V_view.jpg
        e.g. img/WOMEN/Dresses/id_00000002/02_1_front.jpg
    Eval/list_eval_partition.txt  count line, "image_name item_id evaluation_status", then rows
    Anno/list_bbox_inshop.txt     count line,
        "image_name clothes_type pose_type x_1 y_1 x_2 y_2", then rows
    Anno/list_item_inshop.txt     (optional) count line, then one item id per line

Every image is a shop image (the queries are shop-style photos too), the split (train, query,
gallery) comes from the partition file, the item id from the partition file (checked against the
item folder), the category from the category folder, and the gender folder and clothes type
(upper, lower, full body) become the attribute tasks ``gender`` and ``clothes_type``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.adapters.common import (
    dataset_root,
    finish,
    read_id_list,
    read_listing,
    require_file,
)
from clothret.datamodules.adapters.deepfashion import path_parts, with_bboxes
from clothret.datamodules.base import ManifestDataModule
from clothret.errors import DataError
from clothret.registry import register

log = logging.getLogger(__name__)

PARTITION_COLUMNS = ("image_name", "item_id", "evaluation_status")
BBOX_COLUMNS_INSHOP = ("image_name", "clothes_type", "pose_type", "x_1", "y_1", "x_2", "y_2")
INSHOP_SPLITS = ("train", "query", "gallery")


def read_deepfashion_inshop(root: str | Path) -> pd.DataFrame:
    """Manifest of DeepFashion In-shop at ``root`` (layout in the module docstring)."""
    root = dataset_root(root, "img/, Eval/ and Anno/ of DeepFashion In-shop")
    partition_file = require_file(root / "Eval" / "list_eval_partition.txt", "partition file")
    bbox_file = require_file(root / "Anno" / "list_bbox_inshop.txt", "bbox file")
    frame = read_listing(partition_file, PARTITION_COLUMNS)
    unknown = ~frame["evaluation_status"].isin(INSHOP_SPLITS)
    if unknown.any():
        raise DataError(
            f"{str(partition_file)!r}: evaluation_status "
            f"{frame.loc[unknown, 'evaluation_status'].iloc[0]!r} is not one of "
            f"{', '.join(INSHOP_SPLITS)}."
        )
    parts = path_parts(frame["image_name"], partition_file)
    mismatch = parts[3] != frame["item_id"]
    if mismatch.any():
        raise DataError(
            f"{str(partition_file)!r}: item_id {frame.loc[mismatch, 'item_id'].iloc[0]!r}"
            f" differs from its folder in {frame.loc[mismatch, 'image_name'].iloc[0]!r}."
        )
    item_file = root / "Anno" / "list_item_inshop.txt"
    if item_file.is_file():
        unlisted = sorted(set(frame["item_id"]) - set(read_id_list(item_file)))
        if unlisted:
            log.warning(
                "%d item ids of %s are not in %s (first: %s).",
                len(unlisted),
                partition_file,
                item_file,
                unlisted[0],
            )
    frame["path"] = [str(root / name) for name in frame["image_name"]]
    frame["category"] = parts[2]
    frame["attr_gender"] = parts[1].str.lower()
    frame["domain"] = "shop"
    frame["split"] = frame["evaluation_status"]
    frame = with_bboxes(frame, read_listing(bbox_file, BBOX_COLUMNS_INSHOP), bbox_file)
    return finish(frame.drop(columns=["image_name", "evaluation_status"]))


@register("datamodule", "deepfashion_inshop")
class DeepFashionInShopDataModule(ManifestDataModule):
    """DeepFashion In-shop Clothes Retrieval with its published train/query/gallery split.

    Args:
        root: the dataset folder holding ``img/``, ``Eval/`` and ``Anno/``.
        **kwargs: the :class:`ManifestDataModule` params (batch size, sampler, transforms, ...).
    """

    source = "deepfashion_inshop"

    def __init__(self, root: str = "data/deepfashion_inshop", **kwargs: Any) -> None:
        super().__init__(root=root, **kwargs)

    def read_manifest(self) -> pd.DataFrame:
        return read_deepfashion_inshop(self.root)
