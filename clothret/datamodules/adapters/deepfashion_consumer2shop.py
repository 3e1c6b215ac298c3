"""DeepFashion Consumer-to-shop Clothes Retrieval, read as published.

Expected layout under ``root``::

    img/<GROUP>/<Subcategory>/id_XXXXXXXX/comsumer_NN.jpg and shop_NN.jpg
        e.g. img/CLOTHING/Blouse/id_00000001/comsumer_01.jpg (the published spelling)
    Eval/list_eval_partition.txt     count line,
        "image_pair_name_1 image_pair_name_2 item_id evaluation_status", then rows
        <consumer image> <shop image> <item id> <train|val|test>
    Anno/list_bbox_consumer2shop.txt count line,
        "image_name clothes_type source_type pose_type x_1 y_1 x_2 y_2", then rows

Training uses every image of the train pairs. The evaluation split ``eval_split`` gives the queries
(its consumer images) and the gallery (its shop images); ``val_split`` likewise gives
``val_query``/``val_gallery``. An image in several pairs becomes one row. Bounding boxes are
always filled (crop with the base's ``crop_bbox``); the category is the subcategory folder, and
the group folder and clothes type are the attribute tasks ``category_group`` and ``clothes_type``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.adapters.common import (
    dataset_root,
    drop_train_overlap,
    finish,
    read_listing,
    report_rows,
    require_file,
)
from clothret.datamodules.adapters.deepfashion import path_parts, with_bboxes
from clothret.datamodules.base import ManifestDataModule
from clothret.errors import ConfigError, DataError
from clothret.registry import register

PAIR_COLUMNS = ("image_pair_name_1", "image_pair_name_2", "item_id", "evaluation_status")
BBOX_COLUMNS_C2S = (
    "image_name", "clothes_type", "source_type", "pose_type", "x_1", "y_1", "x_2", "y_2"
)  # fmt: skip
PUBLISHED_SPLITS = ("train", "val", "test")


def split_roles(eval_split: str, val_split: str | None) -> dict[str, tuple[str, str]]:
    """Published split → (consumer split, shop split) in the manifest."""
    if eval_split not in ("val", "test") or val_split not in ("val", "test", None):
        raise ConfigError(
            "eval_split must be 'val' or 'test' and val_split 'val', 'test' or "
            f"null; got {eval_split!r} and {val_split!r}."
        )
    if eval_split == val_split:
        raise ConfigError(
            f"eval_split and val_split are both {eval_split!r}; set val_split to "
            "the other published split or to null."
        )
    roles = {"train": ("train", "train"), eval_split: ("query", "gallery")}
    if val_split is not None:
        roles[val_split] = ("val_query", "val_gallery")
    return roles


def side_rows(
    pairs: pd.DataFrame, column: str, domain: str, splits: dict[str, str]
) -> pd.DataFrame:
    """One row per pair for the image in ``column``, its split mapped through ``splits``."""
    return pd.DataFrame({
        "image_name": pairs[column].to_numpy(), "item_id": pairs["item_id"].to_numpy(),
        "domain": domain, "split": pairs["evaluation_status"].map(splits).to_numpy(),
    })  # fmt: skip


def read_deepfashion_consumer2shop(
    root: str | Path, eval_split: str = "test", val_split: str | None = "val"
) -> pd.DataFrame:
    """Manifest of DeepFashion Consumer-to-shop at ``root`` (layout in the module docstring).

    Args:
        root: the dataset folder.
        eval_split: published split (``val`` or ``test``) that becomes ``query``/``gallery``.
        val_split: published split that becomes ``val_query``/``val_gallery``, or None.
    """
    roles = split_roles(eval_split, val_split)
    root = dataset_root(root, "img/, Eval/ and Anno/ of DeepFashion Consumer-to-shop")
    partition_file = require_file(root / "Eval" / "list_eval_partition.txt", "partition file")
    bbox_file = require_file(root / "Anno" / "list_bbox_consumer2shop.txt", "bbox file")
    pairs = read_listing(partition_file, PAIR_COLUMNS)
    unknown = ~pairs["evaluation_status"].isin(PUBLISHED_SPLITS)
    if unknown.any():
        raise DataError(
            f"{str(partition_file)!r}: evaluation_status "
            f"{pairs.loc[unknown, 'evaluation_status'].iloc[0]!r} is not one of "
            f"{', '.join(PUBLISHED_SPLITS)}."
        )
    pairs = pairs[pairs["evaluation_status"].isin(roles)]
    # Evaluation rows first, so that an image listed under several splits keeps its eval role.
    order = {status: rank for rank, status in enumerate([eval_split, val_split, "train"])}
    pairs = pairs.iloc[pairs["evaluation_status"].map(order).argsort(kind="stable")]
    frame = pd.concat(
        [side_rows(pairs, "image_pair_name_1", "consumer", {s: r[0] for s, r in roles.items()}),
         side_rows(pairs, "image_pair_name_2", "shop", {s: r[1] for s, r in roles.items()})],
        ignore_index=True,
    ).drop_duplicates(["image_name", "item_id", "split"])  # fmt: skip
    frame = drop_train_overlap(frame.assign(path=frame["image_name"]))
    repeated = frame["image_name"].duplicated()
    report_rows(
        "dropped: image listed again under another split or item, first listing kept",
        frame.loc[repeated, "image_name"],
    )
    frame = frame[~repeated].copy()
    parts = path_parts(frame["image_name"], partition_file)
    frame["path"] = [str(root / name) for name in frame["image_name"]]
    frame["category"] = parts[2].to_numpy()
    frame["attr_category_group"] = parts[1].str.lower().to_numpy()
    frame = with_bboxes(frame, read_listing(bbox_file, BBOX_COLUMNS_C2S), bbox_file)
    return finish(frame.drop(columns=["image_name"]))


@register("datamodule", "deepfashion_consumer2shop")
class DeepFashionConsumer2ShopDataModule(ManifestDataModule):
    """DeepFashion Consumer-to-shop: consumer queries against the shop images of a split.

    Args:
        root: the dataset folder holding ``img/``, ``Eval/`` and ``Anno/``.
        eval_split: published split evaluated as query/gallery (``test`` or ``val``).
        val_split: published split used for validation (``val_query``/``val_gallery``), or null
            to validate on ``eval_split``.
        **kwargs: the :class:`ManifestDataModule` params (``crop_bbox`` crops to the boxes).
    """

    source = "deepfashion_consumer2shop"

    def __init__(
        self,
        root: str = "data/deepfashion_consumer2shop",
        eval_split: str = "test",
        val_split: str | None = "val",
        **kwargs: Any,
    ) -> None:
        split_roles(eval_split, val_split)
        super().__init__(root=root, **kwargs)
        self.eval_split, self.val_split = eval_split, val_split

    def read_manifest(self) -> pd.DataFrame:
        return read_deepfashion_consumer2shop(self.root, self.eval_split, self.val_split)
