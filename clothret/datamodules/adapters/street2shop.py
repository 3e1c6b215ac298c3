"""Street2Shop ("Where to Buy It", Kiapour et al. 2015) meta files with downloaded photos.

Expected layout under ``root``::

    meta/json/train_pairs_<category>.json  [{"photo": 123, "product": 45, "bbox": {"left": ..,
                                             "top": .., "width": .., "height": ..}}, ...]
    meta/json/test_pairs_<category>.json   same form
    meta/json/retrieval_<category>.json    (optional) [{"product": 45, "photo": 678}, ...]
    images/<photo id>.jpg                  every photo, street and shop, by its photo id

A pair's ``photo`` is a street (consumer) photo showing ``product`` inside ``bbox``. The shop
photos of a product come from ``retrieval_<category>.json``; without that file the product id is
taken as the id of its shop photo. Train pairs give training rows (street photos and their
products' shop photos); test pairs give the queries, and the shop photos of every product not
trained on form the gallery (the published protocol searches the whole category's catalogue).
The item id is the product id, the category the ``<category>`` of the file name. A street photo in
several pairs is used once (its first pair, test before train); photos not downloaded are dropped
with a report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from clothret.datamodules.adapters.common import (
    BBOX_COLUMNS,
    dataset_root,
    drop_missing_images,
    drop_train_overlap,
    finish,
    report_rows,
)
from clothret.datamodules.base import ManifestDataModule
from clothret.errors import DataError
from clothret.registry import register


def load_json_list(path: Path, keys: tuple[str, ...]) -> list[dict]:
    """A JSON list of objects, each checked to hold ``keys``."""
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DataError(f"{str(path)!r} is not valid JSON ({err}); restore the meta file.") from err
    if not isinstance(entries, list):
        raise DataError(f"{str(path)!r} must hold a JSON list of objects with {keys}.")
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or any(k not in entry for k in keys):
            raise DataError(f"{str(path)!r} entry {number} lacks one of {keys}: {entry!r}.")
    return entries


STREET_COLUMNS = ("photo", "item_id", "category", "domain", "split", *BBOX_COLUMNS)


def street_rows(entries: list[dict], category: str, split: str) -> pd.DataFrame:
    """One consumer row per pair, bbox converted from left/top/width/height to corners."""
    rows = []
    for entry in entries:
        box = entry.get("bbox") or {}
        left, top = float(box.get("left", "nan")), float(box.get("top", "nan"))
        rows.append({
            "photo": str(entry["photo"]), "item_id": str(entry["product"]), "category": category,
            "domain": "consumer", "split": split, "bbox_x1": left, "bbox_y1": top,
            "bbox_x2": left + float(box.get("width", "nan")),
            "bbox_y2": top + float(box.get("height", "nan")),
        })  # fmt: skip
    frame = pd.DataFrame(rows, columns=STREET_COLUMNS)
    corners = frame[list(BBOX_COLUMNS)]
    invalid = corners.isna().any(axis=1) | (corners["bbox_x1"] < 0) | (corners["bbox_y1"] < 0)
    invalid |= (corners["bbox_x2"] <= corners["bbox_x1"]) | (
        corners["bbox_y2"] <= corners["bbox_y1"]
    )
    report_rows(
        f"of {category} {split} pairs have no valid bbox: whole photo used",
        frame.loc[invalid, "photo"],
    )
    frame.loc[invalid, list(BBOX_COLUMNS)] = float("nan")
    return frame


def read_category(meta: Path, category: str) -> pd.DataFrame:
    """Rows of one category: street photos of its pairs and shop photos of its products."""
    pair_keys = ("photo", "product")
    pairs = {}
    for split, prefix in (("query", "test"), ("train", "train")):
        path = meta / f"{prefix}_pairs_{category}.json"
        pairs[split] = load_json_list(path, pair_keys) if path.is_file() else []
    street = pd.concat([street_rows(pairs[s], category, s) for s in ("query", "train")])
    test_products = {str(e["product"]) for e in pairs["query"]}
    train_products = {str(e["product"]) for e in pairs["train"]} - test_products
    retrieval = meta / f"retrieval_{category}.json"
    if retrieval.is_file():
        shop_pairs = [
            (str(e["product"]), str(e["photo"]))
            for e in load_json_list(retrieval, ("product", "photo"))
        ]
    else:
        shop_pairs = [(p, p) for p in sorted(test_products | train_products)]
    shop = pd.DataFrame(shop_pairs, columns=["item_id", "photo"]).assign(
        category=category, domain="shop",
        split=lambda f: f["item_id"].map(lambda p: "train" if p in train_products else "gallery"),
    )  # fmt: skip
    return pd.concat([street, shop], ignore_index=True)


def read_street2shop(
    root: str | Path, categories: list[str] | None = None, image_dir: str = "images"
) -> pd.DataFrame:
    """Manifest of Street2Shop at ``root`` (layout in the module docstring).

    Args:
        root: the dataset folder holding ``meta/json/`` and the image folder.
        categories: categories to read (``dresses``, ``footwear``, ...); None reads every
            category with a pairs file.
        image_dir: folder under ``root`` holding ``<photo id>.jpg``.
    """
    root = dataset_root(root, "meta/json/ and images/ of Street2Shop")
    meta = root / "meta" / "json"
    found = sorted({p.stem.split("_pairs_", 1)[1] for p in meta.glob("*_pairs_*.json")})
    if not found:
        raise DataError(
            f"No train_pairs_<category>.json or test_pairs_<category>.json in "
            f"{str(meta)!r}; unpack the published meta files there."
        )
    unknown = [c for c in categories or [] if c not in found]
    if unknown:
        raise DataError(
            f"Street2Shop category {unknown[0]!r} has no pairs file in {str(meta)!r}; "
            f"available: {', '.join(found)}."
        )
    frame = pd.concat([read_category(meta, c) for c in categories or found], ignore_index=True)
    frame["path"] = [str(root / image_dir / f"{photo}.jpg") for photo in frame["photo"]]
    # Queries first, so that a photo listed twice with one box keeps its evaluation role. A photo
    # with several garments stays once per box (the manifest allows a path once per bbox).
    frame = frame.iloc[(frame["split"] != "query").argsort(kind="stable")]
    repeated = frame.duplicated(["path", *BBOX_COLUMNS])
    report_rows("dropped: photo listed again with the same box, first listing kept",
                frame.loc[repeated, "photo"])  # fmt: skip
    frame = drop_missing_images(drop_train_overlap(frame[~repeated]))
    return finish(frame.drop(columns=["photo"]))


@register("datamodule", "street2shop")
class Street2ShopDataModule(ManifestDataModule):
    """Street2Shop: street photos (cropped by their bbox with ``crop_bbox``) against shop photos.

    Args:
        root: the dataset folder holding ``meta/json/`` and ``images/``.
        categories: categories to use; null uses every category with a pairs file.
        image_dir: folder under ``root`` holding ``<photo id>.jpg``.
        **kwargs: the :class:`ManifestDataModule` params.
    """

    source = "street2shop"

    def __init__(
        self,
        root: str = "data/street2shop",
        categories: list[str] | None = None,
        image_dir: str = "images",
        **kwargs: Any,
    ) -> None:
        super().__init__(root=root, **kwargs)
        self.categories, self.image_dir = categories, image_dir

    def read_manifest(self) -> pd.DataFrame:
        return read_street2shop(self.root, self.categories, self.image_dir)
