"""Manifest reading and validation: each problem is an error naming the row/column and the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clothret.datamodules.manifest import (
    ROW,
    check_eval_sets,
    queries_without_relevant,
    read_manifest_file,
    select_attributes,
    subset_items,
    validate_manifest,
)
from clothret.errors import ConfigError, DataError

from .conftest import tiny_rows


def with_cell(row: int, column: str, value) -> pd.DataFrame:
    rows = pd.DataFrame(tiny_rows())
    rows[column] = rows[column].astype(object)
    rows.loc[row, column] = value
    return rows


def test_valid_manifest_is_normalised_and_keeps_rows() -> None:
    rows = pd.DataFrame(tiny_rows())
    rows.loc[0, "split"], rows.loc[1, "domain"] = " Train ", "SHOP"
    checked = validate_manifest(rows)
    assert checked["split"].iat[0] == "train" and checked["domain"].iat[1] == "shop"
    assert checked[ROW].tolist() == list(range(len(rows)))


def test_missing_required_column() -> None:
    rows = pd.DataFrame(tiny_rows()).drop(columns=["domain"])
    with pytest.raises(DataError, match=r"missing required column\(s\) 'domain'.*needs path"):
        validate_manifest(rows, "m.csv")


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("split", "test", r"row 4: column 'split' has 'test'; expected one of train, query"),
        ("domain", "street", r"row 4: column 'domain' has 'street'; expected one of shop"),
        ("item_id", "", r"row 4: column 'item_id' is empty"),
        ("path", None, r"row 4: column 'path' is empty"),
    ],
)
def test_bad_cells_name_row_and_column(column: str, value, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        validate_manifest(with_cell(4, column, value))


def test_duplicate_paths_name_both_rows() -> None:
    rows = pd.DataFrame(tiny_rows())
    rows.loc[5, "path"] = rows.loc[2, "path"]
    with pytest.raises(DataError, match=r"rows 2 and 5: duplicate image path 'images/t0_2.jpg'"):
        validate_manifest(rows)


def test_same_path_with_different_boxes_is_allowed() -> None:
    rows = pd.DataFrame(tiny_rows())
    rows.loc[5, "path"] = rows.loc[2, "path"]
    rows["bbox_x1"], rows["bbox_y1"], rows["bbox_y2"] = 0, 0, 10
    rows["bbox_x2"] = [5 + i for i in range(len(rows))]
    assert len(validate_manifest(rows)) == len(rows)


def boxes(row: int, box: tuple) -> pd.DataFrame:
    rows = pd.DataFrame(tiny_rows())
    for column in ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"):
        rows[column] = ""
    rows.loc[row, ["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"]] = [str(v) for v in box]
    return rows


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((10, 5, 4, 20), r"row 3: bbox \[10.0, 5.0, 4.0, 20.0\] is not a box"),
        ((-5, 0, 4, 20), r"row 3: bbox .* is not a box"),
        (("a", 0, 4, 20), r"row 3: column 'bbox_x1' has 'a'; expected a number"),
        (("", 0, 4, 20), r"row 3: bbox is partly empty"),
    ],
)
def test_malformed_bbox(box: tuple, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        validate_manifest(boxes(3, box))


def test_bbox_outside_known_image_size() -> None:
    rows = boxes(3, (0, 0, 50, 20))
    rows["width"], rows["height"] = "40", "32"
    with pytest.raises(DataError, match=r"row 3: bbox .* lies outside the 40x32 image"):
        validate_manifest(rows)
    rows = boxes(3, (0, 0, 41, 32))  # one pixel over: inclusive coordinates are tolerated
    rows["width"], rows["height"] = "40", "32"
    assert len(validate_manifest(rows)) == len(rows)


def test_item_in_train_and_eval_split() -> None:
    rows = pd.DataFrame(tiny_rows())
    rows.loc[rows["item_id"] == "e1", "item_id"] = "t2"
    expected = r"item 't2' is in the training split \(row 6\) and in the 'query' split \(row 15\)"
    with pytest.raises(DataError, match=expected):
        validate_manifest(rows)


def test_empty_query_or_gallery_set() -> None:
    rows = validate_manifest(pd.DataFrame(tiny_rows()))
    check_eval_sets(rows, "m", "query", "gallery")
    with pytest.raises(DataError, match=r"m has no 'gallery' rows"):
        check_eval_sets(rows[rows["split"] != "gallery"], "m", "query", "gallery")
    with pytest.raises(DataError, match=r"no 'val_query' rows"):
        check_eval_sets(rows, "m", "val_query", "val_gallery")


def test_queries_without_relevant_gallery_are_counted() -> None:
    rows = validate_manifest(pd.DataFrame(tiny_rows()))
    assert queries_without_relevant(rows, "item") == 0
    no_gallery = rows[~((rows["item_id"] == "e0") & (rows["split"] == "gallery"))]
    assert queries_without_relevant(no_gallery, "item") == 1
    # e0 and e2 are shirts: e0's query still finds a shirt in the gallery.
    assert queries_without_relevant(no_gallery, "category") == 0
    only_e1 = no_gallery[(no_gallery["split"] != "gallery") | (no_gallery["item_id"] == "e1")]
    assert queries_without_relevant(only_e1, "category") == 2  # e0, e2 (shirts) vs a dress


def test_csv_keeps_na_as_a_value_and_empty_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    pd.DataFrame(tiny_rows()).to_csv(path, index=False)
    read, rows = read_manifest_file(path), tiny_rows()
    assert (read["attr_color"] == "NA").sum() == sum(r["attr_color"] == "NA" for r in rows) > 0
    assert (read["attr_pattern"] == "").sum() == sum(r["attr_pattern"] == "" for r in rows) > 0


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is needed for Parquet manifests")
    path = tmp_path / "m.parquet"
    pd.DataFrame(tiny_rows()).to_parquet(path)
    csv = tmp_path / "m.csv"
    pd.DataFrame(tiny_rows()).to_csv(csv, index=False)
    pd.testing.assert_frame_equal(read_manifest_file(path), read_manifest_file(csv))


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"Manifest file not found: '.*nope.csv'"):
        read_manifest_file(tmp_path / "nope.csv")


def test_subset_items_keeps_both_eval_sides() -> None:
    rows = validate_manifest(pd.DataFrame(tiny_rows(train_items=6, eval_items=5)))
    subset = subset_items(rows, 2, seed=3)
    for split in ("train", "query", "gallery"):
        assert subset.loc[subset["split"] == split, "item_id"].nunique() == 2
    assert subset_items(rows, 2, seed=3).equals(subset)  # deterministic


def test_select_attributes() -> None:
    rows = validate_manifest(pd.DataFrame(tiny_rows()))
    kept = select_attributes(rows, ["pattern"], "m")
    assert [c for c in kept.columns if c.startswith("attr_")] == ["attr_pattern"]
    with pytest.raises(ConfigError, match=r"'patern' .*Did you mean 'pattern'.*color, pattern"):
        select_attributes(rows, ["patern"], "m")
