"""Street2Shop (Where to Buy It) adapter on a fixture of its published meta files."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pytest

from clothret.datamodules.adapters.street2shop import read_street2shop
from clothret.errors import DataError
from clothret.keys import DOMAIN, IS_QUERY, ITEM_ID

from .conftest import build_from_yaml, check_train_batch, eval_batches

# (photo, item, split, domain, category, bbox) written out by hand from conftest.S2S_META.
NO_BOX = (math.nan,) * 4
EXPECTED = [
    (101, "1", "train", "consumer", "dresses", (2, 3, 22, 33)),
    (102, "2", "train", "consumer", "dresses", (5, 3, 25, 33)),
    (1001, "1", "train", "shop", "dresses", NO_BOX),
    (1002, "2", "train", "shop", "dresses", NO_BOX),
    (201, "3", "query", "consumer", "dresses", (2, 3, 22, 33)),
    (201, "4", "query", "consumer", "dresses", (10, 12, 30, 42)),
    (1003, "3", "gallery", "shop", "dresses", NO_BOX),
    (1013, "3", "gallery", "shop", "dresses", NO_BOX),
    (1004, "4", "gallery", "shop", "dresses", NO_BOX),
    (1005, "5", "gallery", "shop", "dresses", NO_BOX),  # catalogue product without a pair
    (301, "11", "train", "consumer", "footwear", (2, 3, 22, 33)),
    (11, "11", "train", "shop", "footwear", NO_BOX),
    (401, "12", "query", "consumer", "footwear", (2, 3, 22, 33)),
    (12, "12", "gallery", "shop", "footwear", NO_BOX),
]  # photo 302 (train pair of test product 12) and 999 (not downloaded) are dropped


def as_key(row: tuple) -> tuple:
    return tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in row)


def test_rows_match_the_meta_files(
    street2shop_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        frame = read_street2shop(street2shop_root)
    got = sorted(
        as_key((Path(r.path).stem, r.item_id, r.split, r.domain, r.category,
                r.bbox_x1, r.bbox_y1, r.bbox_x2, r.bbox_y2))
        for r in frame.itertuples()
    )  # fmt: skip
    expected = sorted(
        as_key((str(p), i, s, d, c, *map(float, box))) for p, i, s, d, c, box in EXPECTED
    )
    assert got == expected
    assert "1 rows dropped: image file missing" in caplog.text
    assert "1 rows dropped from train" in caplog.text


def test_no_item_in_train_and_evaluation(street2shop_root: Path) -> None:
    frame = read_street2shop(street2shop_root)
    train = set(frame.loc[frame["split"] == "train", "item_id"])
    assert not train & set(frame.loc[frame["split"] != "train", "item_id"])


def test_category_subset(street2shop_root: Path) -> None:
    frame = read_street2shop(street2shop_root, categories=["footwear"])
    assert set(frame["category"]) == {"footwear"}
    assert len(frame) == sum(1 for row in EXPECTED if row[4] == "footwear")


def test_unknown_category_lists_the_available_ones(street2shop_root: Path) -> None:
    with pytest.raises(DataError, match="available: dresses, footwear"):
        read_street2shop(street2shop_root, categories=["hats"])


def test_empty_box_is_replaced_by_the_whole_photo(street2shop_root: Path) -> None:
    pairs = [{"photo": 401, "product": 12, "bbox": {"left": 5, "top": 5, "width": 0, "height": 9}}]
    (street2shop_root / "meta" / "json" / "test_pairs_footwear.json").write_text(json.dumps(pairs))
    frame = read_street2shop(street2shop_root, categories=["footwear"])
    query = frame[frame["split"] == "query"]
    assert len(query) == 1 and query[["bbox_x1", "bbox_x2"]].isna().all(axis=None)


def test_pair_without_product_is_an_error(street2shop_root: Path) -> None:
    (street2shop_root / "meta" / "json" / "test_pairs_footwear.json").write_text('[{"photo": 1}]')
    with pytest.raises(DataError, match="entry 0 lacks one of"):
        read_street2shop(street2shop_root)


def test_datamodule_from_yaml_yields_batches(street2shop_root: Path) -> None:
    module = build_from_yaml("street2shop", root=str(street2shop_root))
    assert module.crop_bbox  # street photos are cropped to their box, shop photos are not
    check_train_batch(module)
    test = eval_batches(module, "test")
    assert (int(test[IS_QUERY].sum()), len(test[IS_QUERY])) == (3, 8)
    assert test[DOMAIN].tolist() == test[IS_QUERY].long().tolist()
    query_items = set(test[ITEM_ID][test[IS_QUERY]].tolist())
    assert query_items <= set(test[ITEM_ID][~test[IS_QUERY]].tolist())  # every query has a match
