"""Fashion Product Images adapter on a fixture ``styles.csv`` and on the real catalogue subset."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from clothret.datamodules.adapters.fashion_product import read_fashion_product, read_styles
from clothret.errors import ConfigError
from clothret.keys import ATTRIBUTES, IS_QUERY

from .conftest import STYLES_ROWS, build_from_yaml, check_train_batch, eval_batches, real_data

ATTRIBUTES_FIXTURE = ["gender", "masterCategory", "subCategory", "baseColour", "season", "usage"]


def test_styles_rows_with_extra_commas_keep_their_columns(fashion_product_root: Path) -> None:
    styles = read_styles(fashion_product_root / "styles.csv").set_index("id")
    assert len(styles) == len(STYLES_ROWS)
    assert styles.loc["1003", "productDisplayName"] == "Tee, Grey, Dry Fit"
    assert (styles.loc["1003", "baseColour"], styles.loc["1003", "usage"]) == ("", "Sports")
    assert styles.loc["1002", "usage"] == "NA"


def test_rows_categories_attributes_and_drops(
    fashion_product_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        frame = read_fashion_product(fashion_product_root)
    expected_ids = {r.split(",")[0] for r in STYLES_ROWS} - {"5001", "6001"}
    assert set(frame["item_id"]) == expected_ids and len(frame) == len(expected_ids)
    assert "1 rows dropped: empty articleType (5001)" in caplog.text
    assert "1 rows dropped: image file missing" in caplog.text
    rows = frame.set_index("item_id")
    for line in STYLES_ROWS:
        fields = line.split(",")
        if fields[0] in expected_ids:
            assert rows.loc[fields[0], "category"] == fields[4]
            assert [rows.loc[fields[0], f"attr_{a}"] for a in ATTRIBUTES_FIXTURE] == [
                fields[1], fields[2], fields[3], fields[5], fields[6], fields[8]
            ]  # fmt: skip
    assert rows.loc["1002", "attr_usage"] == "NA"
    assert set(frame["domain"]) == {"shop"}
    assert all(Path(p) == fashion_product_root / "images" / f"{i}.jpg"
               for p, i in zip(frame["path"], frame["item_id"], strict=True))  # fmt: skip
    counts = frame.groupby(["category", "split"]).size().unstack(fill_value=0)
    assert counts.loc["Tshirts"].to_dict() == {"gallery": 1, "query": 1, "train": 3}
    assert counts.loc["Shirts"].to_dict() == {"gallery": 1, "query": 1, "train": 1}
    assert counts.loc["Watches"].to_dict() == {"gallery": 1, "query": 0, "train": 1}
    assert counts.loc["Caps"].to_dict() == {"gallery": 0, "query": 0, "train": 1}


def test_any_column_can_be_the_category(fashion_product_root: Path) -> None:
    frame = read_fashion_product(fashion_product_root, "subCategory", ["season", "year"])
    assert set(frame["category"]) == {"Topwear", "Watches", "Headwear", "Bags"}
    assert [c for c in frame.columns if c.startswith("attr_")] == ["attr_season", "attr_year"]
    assert frame.set_index("item_id").loc["1004", "attr_year"] == ""  # empty field: missing label


def test_unknown_column_lists_the_columns(fashion_product_root: Path) -> None:
    with pytest.raises(ConfigError, match=r"no column 'colour'.*baseColour"):
        read_fashion_product(fashion_product_root, attribute_columns=["colour"])


def test_split_is_seeded(fashion_product_root: Path) -> None:
    first = read_fashion_product(fashion_product_root, seed=4)
    assert first.equals(read_fashion_product(fashion_product_root, seed=4))


def test_real_catalogue() -> None:
    root = real_data("fashion-product")
    with (root / "styles.csv").open(newline="") as handle:
        reference = {row["id"]: row for row in csv.DictReader(handle)}
    kept = {i: r for i, r in reference.items()
            if r["articleType"] and (root / "images" / f"{i}.jpg").is_file()}  # fmt: skip
    frame = read_fashion_product(root, seed=0)
    assert len(frame) == len(kept) == len(set(frame["path"]))
    rows = frame.set_index("item_id")
    assert rows["category"].to_dict() == {i: r["articleType"] for i, r in kept.items()}
    assert rows["attr_usage"].to_dict() == {i: r["usage"] for i, r in kept.items()}
    assert (rows["attr_usage"] == "NA").sum() == sum(r["usage"] == "NA" for r in kept.values()) > 0
    split_sets = frame.groupby("split")["item_id"].agg(set)
    assert not split_sets["train"] & (split_sets["query"] | split_sets["gallery"])
    sizes = frame["category"].value_counts()
    per_split = frame.groupby(["category", "split"]).size().unstack(fill_value=0)
    assert (per_split.loc[sizes[sizes >= 3].index] >= 1).all(axis=None)
    assert frame.equals(read_fashion_product(root, seed=0))


def test_datamodule_from_yaml_yields_batches(fashion_product_root: Path) -> None:
    module = build_from_yaml("fashion_product", root=str(fashion_product_root))
    assert module.relevance == "category"
    assert set(module.runtime_info()["attribute_dims"]) == set(ATTRIBUTES_FIXTURE)
    batch = check_train_batch(module)
    assert set(batch[ATTRIBUTES]) == set(ATTRIBUTES_FIXTURE)
    test = eval_batches(module, "test")
    assert (int(test[IS_QUERY].sum()), len(test[IS_QUERY])) == (2, 5)  # 2 + 3 from the split
