"""Cross-domain adapter: consumer queries and shop gallery joined through a category mapping."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from clothret.datamodules.adapters.clothing_photos import read_clothing_photos
from clothret.datamodules.adapters.cross_domain import combine_cross_domain, read_mapping
from clothret.datamodules.adapters.fashion_product import read_fashion_product
from clothret.errors import ConfigError, DataError
from clothret.keys import DOMAIN, IS_QUERY
from clothret.registry import build

from .conftest import REAL_DATA, build_from_yaml, check_train_batch, eval_batches, real_data

MAPPING = "coarse_category,clothing_cc0_label,fashion_product_articleType\n" + "\n".join(
    ["tshirt_top,T-Shirt,Tshirts", "shirt,,Shirts", "hat,Hat,Caps", "trousers,Pants,"]
)
QUERY_MAP = {"T-Shirt": "tshirt_top", "Hat": "hat", "Pants": "trousers"}
GALLERY_MAP = {"Tshirts": "tshirt_top", "Shirts": "shirt", "Caps": "hat"}


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.csv"
    path.write_text(MAPPING + "\n")
    return path


def test_read_mapping_skips_empty_cells(mapping_file: Path) -> None:
    assert read_mapping(mapping_file) == (QUERY_MAP, GALLERY_MAP)


def test_label_in_two_coarse_categories_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("coarse,q,g\ntop,Top,Tops\nshirt,Top,Shirts\n")
    with pytest.raises(DataError, match=r"line 3 maps 'Top' to 'shirt'.*'top'"):
        read_mapping(path)


@pytest.mark.parametrize("train_from", ["both", "query", "gallery", "none"])
def test_combined_rows_by_side(
    clothing_photos_root: Path, fashion_product_root: Path, mapping_file: Path, train_from: str
) -> None:
    query = read_clothing_photos(clothing_photos_root)
    gallery = read_fashion_product(fashion_product_root)
    frame = combine_cross_domain(query, gallery, mapping_file, train_from)
    expected = []  # (item_id, split, coarse category, domain), by explicit loops over both sides
    for side, source, labels, own in (("query", query, QUERY_MAP, "query"),
                                      ("gallery", gallery, GALLERY_MAP, "gallery")):  # fmt: skip
        for row in source.itertuples():
            use = row.split == own or (row.split == "train" and train_from in ("both", side))
            if use and row.category in labels:
                expected.append(
                    (f"{side}:{row.item_id}", row.split, labels[row.category], row.domain)
                )
    got = list(
        zip(frame["item_id"], frame["split"], frame["category"], frame["domain"], strict=True)
    )
    assert sorted(got) == sorted(expected)
    assert set(frame.loc[frame["split"] == "query", "domain"]) == {"consumer"}
    assert set(frame.loc[frame["split"] == "gallery", "domain"]) == {"shop"}
    assert frame.filter(like="attr_").notna().all(axis=None)  # a side's absent tasks are ""


def test_unmapped_labels_are_reported(
    clothing_photos_root: Path,
    fashion_product_root: Path,
    mapping_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        combine_cross_domain(read_clothing_photos(clothing_photos_root),
                             read_fashion_product(fashion_product_root), mapping_file)  # fmt: skip
    assert "dropped: gallery-side label not in the mapping" in caplog.text
    assert "Watches" in caplog.text


def test_unknown_train_from_is_a_config_error(mapping_file: Path) -> None:
    with pytest.raises(ConfigError, match="train_from"):
        combine_cross_domain(None, None, mapping_file, "shop")  # type: ignore[arg-type]


def test_real_consumer_to_shop_categories() -> None:
    clothing, fashion = real_data("clothing-cc0"), real_data("fashion-product")
    mapping = REAL_DATA / "cross-domain-categories.csv"
    with mapping.open(newline="") as handle:
        table = list(csv.reader(handle))[1:]
    query_map = {q: c for c, q, _ in table if q}
    gallery_map = {g: c for c, _, g in table if g}
    query = read_clothing_photos(clothing, split_fractions={"train": 0.5, "query": 0.5})
    gallery = read_fashion_product(fashion, split_fractions={"train": 0.5, "gallery": 0.5})
    frame = combine_cross_domain(query, gallery, mapping)
    for side, source, labels in (("query", query, query_map), ("gallery", gallery, gallery_map)):
        kept = source[source["category"].isin(labels)]
        mine = frame[frame["item_id"].str.startswith(side + ":")]
        assert len(mine) == len(kept)
        coarse = dict(zip(mine["path"], mine["category"], strict=True))
        assert all(
            coarse[p] == labels[c] for p, c in zip(kept["path"], kept["category"], strict=True)
        )
    coarse_categories = {c for c, _, _ in table}
    assert set(frame.loc[frame["split"] == "query", "category"]) == coarse_categories
    assert set(frame.loc[frame["split"] == "gallery", "category"]) == coarse_categories


def test_datamodule_from_yaml_with_nested_nodes(
    clothing_photos_root: Path, fashion_product_root: Path, mapping_file: Path
) -> None:
    module = build_from_yaml(
        "cross_domain",
        query={"name": "clothing_photos", "root": str(clothing_photos_root)},
        gallery=build("datamodule", {"name": "fashion_product", "root": str(fashion_product_root)}),
        mapping=str(mapping_file),
    )
    assert module.relevance == "category"
    assert module.vocab.categories == ["hat", "shirt", "trousers", "tshirt_top"]
    check_train_batch(module)
    test = eval_batches(module, "test")
    assert test[DOMAIN].tolist() == test[IS_QUERY].long().tolist()  # consumer queries, shop gallery
    assert int(test[IS_QUERY].sum()) == 3  # T-Shirt, Hat, Pants queries (one each)


def test_nested_node_errors_name_their_path(mapping_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"'datamodule\.query\.roots'"):
        build(
            "datamodule",
            {"name": "cross_domain", "query": {"name": "clothing_photos", "roots": "x"}},
        )


def test_real_datamodule_every_query_has_a_relevant_image() -> None:
    real_data("clothing-cc0")
    real_data("fashion-product")
    module = build_from_yaml(
        "cross_domain",
        query={"name": "clothing_photos", "root": str(REAL_DATA / "clothing-cc0"),
               "split_fractions": {"train": 0.5, "query": 0.5}},
        gallery={"name": "fashion_product", "root": str(REAL_DATA / "fashion-product"),
                 "split_fractions": {"train": 0.5, "gallery": 0.5}},
        mapping=str(REAL_DATA / "cross-domain-categories.csv"),
    )  # fmt: skip
    assert module.report["test_queries_without_relevant"] == 0
    assert len(module.vocab.categories) == 9
    check_train_batch(module)
