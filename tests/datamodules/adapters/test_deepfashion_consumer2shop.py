"""DeepFashion Consumer-to-shop adapter on a fixture in the published layout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from clothret.datamodules.adapters.deepfashion_consumer2shop import (
    read_deepfashion_consumer2shop,
)
from clothret.errors import ConfigError, DataError
from clothret.keys import DOMAIN, IS_QUERY

from .conftest import (
    C2S_EXTRA_IMAGE,
    C2S_PAIRS,
    build_from_yaml,
    c2s_box,
    check_train_batch,
    eval_batches,
)

BLOUSE, DRESS, TEE = "img/CLOTHING/Blouse", "img/DRESSES/Dress", "img/TOPS/T_Shirt"
# image → (item_id, split, domain) with eval_split=test, val_split=val, written out by hand.
EXPECTED = {
    f"{BLOUSE}/id_00000001/comsumer_01.jpg": ("id_00000001", "train", "consumer"),
    f"{BLOUSE}/id_00000001/comsumer_02.jpg": ("id_00000001", "train", "consumer"),
    f"{BLOUSE}/id_00000001/shop_01.jpg": ("id_00000001", "train", "shop"),
    f"{DRESS}/id_00000002/comsumer_01.jpg": ("id_00000002", "val_query", "consumer"),
    f"{DRESS}/id_00000002/shop_01.jpg": ("id_00000002", "val_gallery", "shop"),
    f"{BLOUSE}/id_00000003/comsumer_01.jpg": ("id_00000003", "query", "consumer"),
    f"{BLOUSE}/id_00000003/shop_01.jpg": ("id_00000003", "gallery", "shop"),
    f"{BLOUSE}/id_00000003/shop_02.jpg": ("id_00000003", "gallery", "shop"),
    f"{DRESS}/id_00000004/comsumer_01.jpg": ("id_00000004", "query", "consumer"),
    f"{DRESS}/id_00000004/shop_01.jpg": ("id_00000004", "gallery", "shop"),
    f"{TEE}/id_00000005/comsumer_01.jpg": ("id_00000005", "val_query", "consumer"),
    f"{TEE}/id_00000005/shop_01.jpg": ("id_00000005", "val_gallery", "shop"),
}


def test_rows_match_the_published_files(make_consumer2shop: Callable[..., Path]) -> None:
    root = make_consumer2shop()
    frame = read_deepfashion_consumer2shop(root)
    assert sorted(frame["path"]) == sorted(str(root / name) for name in EXPECTED)
    assert str(root / C2S_EXTRA_IMAGE) not in set(frame["path"])
    for row in frame.itertuples():
        name = Path(row.path).relative_to(root).as_posix()
        assert (row.item_id, row.split, row.domain) == EXPECTED[name]
        assert row.category == name.split("/")[2]
        assert row.attr_category_group == name.split("/")[1].lower()
        assert (row.bbox_x1, row.bbox_y1, row.bbox_x2, row.bbox_y2) == c2s_box(name)


def test_eval_on_val_without_validation_split(make_consumer2shop: Callable[..., Path]) -> None:
    frame = read_deepfashion_consumer2shop(make_consumer2shop(), eval_split="val", val_split=None)
    splits = frame.groupby("split")["item_id"].agg(lambda s: sorted(set(s))).to_dict()
    assert splits == {
        "train": ["id_00000001"],
        "query": ["id_00000002", "id_00000005"],
        "gallery": ["id_00000002", "id_00000005"],
    }
    assert set(frame.loc[frame["split"] == "query", "domain"]) == {"consumer"}
    assert set(frame.loc[frame["split"] == "gallery", "domain"]) == {"shop"}


def test_item_in_train_and_test_pairs_stays_in_test_only(
    make_consumer2shop: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    leak = (f"{DRESS}/id_00000004/comsumer_09.jpg", f"{DRESS}/id_00000004/shop_09.jpg",
            "id_00000004", "train")  # fmt: skip
    with caplog.at_level(logging.WARNING):
        frame = read_deepfashion_consumer2shop(make_consumer2shop([*C2S_PAIRS, leak]))
    train = set(frame.loc[frame["split"] == "train", "item_id"])
    evaluation = set(frame.loc[frame["split"] != "train", "item_id"])
    assert not train & evaluation
    assert not frame["path"].str.endswith("_09.jpg").any()
    assert "2 rows dropped from train" in caplog.text


def test_same_split_twice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="both 'test'"):
        read_deepfashion_consumer2shop("unused", eval_split="test", val_split="test")


def test_unknown_evaluation_status_is_an_error(make_consumer2shop: Callable[..., Path]) -> None:
    root = make_consumer2shop([*C2S_PAIRS[:-1], (*C2S_PAIRS[-1][:3], "testing")])
    with pytest.raises(DataError, match="'testing' is not one of train, val, test"):
        read_deepfashion_consumer2shop(root)


def test_datamodule_from_yaml_yields_batches(make_consumer2shop: Callable[..., Path]) -> None:
    module = build_from_yaml("deepfashion_consumer2shop", root=str(make_consumer2shop()))
    assert module.crop_bbox and module.relevance == "item"
    check_train_batch(module)
    val, test = eval_batches(module, "validate"), eval_batches(module, "test")
    assert (int(val[IS_QUERY].sum()), len(val[IS_QUERY])) == (2, 4)  # val_query / val_gallery
    assert (int(test[IS_QUERY].sum()), len(test[IS_QUERY])) == (2, 5)
    for batch in (val, test):  # queries are consumer images (1), the gallery shop images (0)
        assert batch[DOMAIN].tolist() == batch[IS_QUERY].long().tolist()
