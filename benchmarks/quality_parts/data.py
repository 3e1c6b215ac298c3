"""The benchmark's images and labels: both folders of ``../shared/data``, split 70/30 by item.

Read through the package's own adapters (``fashion_product``, ``clothing_photos`` and the
cross-domain mapping), so the benchmark exercises the readers users run. One image is one
product in both folders (no item identity), so training pairs are formed from labels:

* ``fine``: the finest label both domains share. Shop: ``articleType``. Consumer: the shop
  article type on the same line of ``cross-domain-categories.csv`` (T-Shirt → Tshirts, Pants →
  Jeans, ...), or the coarse category where that line has no shop label (Top, Blouse, ...).
* ``group``: the coarse category where the mapping has one, else the shop ``subCategory``
  (Watches, Bags, ...): the level above ``fine``, for ClothingNet's category term.
* ``coarse``: the coarse category of the mapping, empty for unmapped shop types.

Evaluation uses only the raw labels: ``articleType`` on the shop test split, ``coarse`` from
consumer test photos to shop test photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clothret.datamodules.adapters.clothing_photos import read_clothing_photos
from clothret.datamodules.adapters.cross_domain import read_mapping
from clothret.datamodules.adapters.fashion_product import DEFAULT_ATTRIBUTES, read_fashion_product
from clothret.datamodules.vocab import Vocab

SHOP, CONSUMER = "fashion-product", "clothing-cc0"
MAPPING = "cross-domain-categories.csv"
ATTRIBUTE_TASKS = tuple(DEFAULT_ATTRIBUTES)  # gender, masterCategory, subCategory, ...
TEST_FRACTION = 0.3


def paired_shop_labels(mapping: Path) -> dict[str, str]:
    """Consumer label → the shop article type on the same line of the mapping CSV."""
    table = pd.read_csv(mapping, dtype=str, keep_default_na=False)
    pairs = table.iloc[:, 1:3].itertuples(index=False)
    return {consumer: shop for consumer, shop in pairs if consumer and shop}


def read_frame(data_root: str | Path, seed: int) -> pd.DataFrame:
    """One row per image of both folders: ``path, domain, split (train|test), article, coarse,
    fine, group`` and the shop attribute columns (empty on consumer rows)."""
    root = Path(data_root).resolve()  # absolute paths: the cache key does not depend on cwd
    split = {"train": 1 - TEST_FRACTION}
    shop = read_fashion_product(
        root / SHOP, split_fractions={**split, "gallery": TEST_FRACTION}, seed=seed
    )
    consumer = read_clothing_photos(
        root / CONSUMER, split_fractions={**split, "query": TEST_FRACTION}, seed=seed
    )
    consumer_coarse, shop_coarse = read_mapping(root / MAPPING)
    consumer = consumer[consumer["category"].isin(consumer_coarse)]
    paired = paired_shop_labels(root / MAPPING)
    shop = shop.assign(
        article=shop["category"],
        coarse=shop["category"].map(shop_coarse).fillna(""),
        fine=shop["category"],
    )
    shop["group"] = shop["coarse"].where(shop["coarse"] != "", shop["attr_subCategory"])
    consumer = consumer.assign(
        article=consumer["category"], coarse=consumer["category"].map(consumer_coarse)
    )
    consumer["fine"] = consumer["category"].map(paired).fillna(consumer["coarse"])
    consumer["group"] = consumer["coarse"]
    frame = pd.concat([shop, consumer], ignore_index=True)
    frame["split"] = np.where(frame["split"] == "train", "train", "test")
    attributes = {f"attr_{t}": frame[f"attr_{t}"].fillna("") for t in ATTRIBUTE_TASKS}
    columns = ["path", "domain", "split", "article", "coarse", "fine", "group"]
    return frame[columns].assign(**attributes)


def task_columns(tasks: tuple[str, ...]) -> dict[str, str]:
    """Attribute task name → frame column (``fine``/``coarse`` or a shop attribute)."""
    return {t: t if t in ("fine", "coarse", "group") else f"attr_{t}" for t in tasks}


def training_vocab(frame: pd.DataFrame, category: str, tasks: tuple[str, ...]) -> Vocab:
    """The package vocabulary of the training rows with ``category`` and ``tasks`` as labels."""
    train = frame[frame["split"] == "train"]
    manifest = pd.DataFrame({"category": train[category].to_numpy()})
    for task, column in task_columns(tasks).items():
        manifest[f"attr_{task}"] = train[column].to_numpy()
    return Vocab.from_frame(manifest)


def codes(values: pd.Series) -> np.ndarray:
    """Integer ids of string labels (sorted vocabulary), for the metrics."""
    return pd.factorize(pd.Series(values), sort=True)[0].astype(np.int64)
