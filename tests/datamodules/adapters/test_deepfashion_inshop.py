"""DeepFashion In-shop adapter on a fixture in the published layout."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from clothret.datamodules.adapters.deepfashion_inshop import read_deepfashion_inshop
from clothret.errors import DataError
from clothret.keys import CATEGORY, DOMAIN, IS_QUERY

from .conftest import INSHOP, build_from_yaml, check_train_batch, eval_batches

CLOTHES = {1: "upper", 2: "lower", 3: "full"}


def test_rows_match_the_published_files(inshop_root: Path) -> None:
    frame = read_deepfashion_inshop(inshop_root)
    assert len(frame) == len(INSHOP)
    rows = frame.set_index("path")
    for name, item, status, clothes_type, box in INSHOP:
        row = rows.loc[str(inshop_root / name)]
        _, gender, category, folder, _ = name.split("/")
        assert (row["item_id"], row["split"], row["domain"]) == (item, status, "shop")
        assert item == folder
        assert row["category"] == category
        assert row["attr_gender"] == gender.lower()
        assert row["attr_clothes_type"] == CLOTHES[clothes_type]
        assert tuple(row[["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"]]) == box
        assert Path(row.name).is_file()


def test_no_item_in_train_and_evaluation(inshop_root: Path) -> None:
    frame = read_deepfashion_inshop(inshop_root)
    train = set(frame.loc[frame["split"] == "train", "item_id"])
    evaluation = set(frame.loc[frame["split"] != "train", "item_id"])
    assert train == {"id_00000001", "id_00000002"}
    assert not train & evaluation


def test_items_missing_from_the_item_list_are_reported(
    inshop_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (inshop_root / "Anno" / "list_item_inshop.txt").write_text("2\nid_00000001\nid_00000002\n")
    with caplog.at_level(logging.WARNING):
        assert len(read_deepfashion_inshop(inshop_root)) == len(INSHOP)
    assert "3 item ids of" in caplog.text and "(first: id_00000003)" in caplog.text


def test_truncated_partition_file_is_an_error(inshop_root: Path) -> None:
    partition = inshop_root / "Eval" / "list_eval_partition.txt"
    partition.write_text("\n".join(partition.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(DataError, match="announces 8 rows but holds 7"):
        read_deepfashion_inshop(inshop_root)


def test_wrong_header_is_an_error(inshop_root: Path) -> None:
    bbox = inshop_root / "Anno" / "list_bbox_inshop.txt"
    lines = bbox.read_text().splitlines()
    bbox.write_text("\n".join([lines[0], "image_name x_1 y_1 x_2 y_2", *lines[2:]]))
    with pytest.raises(DataError, match="expected 'image_name clothes_type pose_type"):
        read_deepfashion_inshop(inshop_root)


def test_image_without_box_is_an_error(inshop_root: Path) -> None:
    bbox = inshop_root / "Anno" / "list_bbox_inshop.txt"
    lines = bbox.read_text().splitlines()
    bbox.write_text("\n".join(["7", *lines[1:-1]]))
    with pytest.raises(DataError, match="no box for 1 images"):
        read_deepfashion_inshop(inshop_root)


def test_item_id_differing_from_its_folder_is_an_error(inshop_root: Path) -> None:
    partition = inshop_root / "Eval" / "list_eval_partition.txt"
    lines = partition.read_text().splitlines()
    lines[4] = lines[4].replace(" id_00000002 ", " id_00000009 ")  # MEN/Denim/id_00000002 row
    partition.write_text("\n".join(lines))
    with pytest.raises(DataError, match="differs from its folder"):
        read_deepfashion_inshop(inshop_root)


def test_missing_root_names_the_expected_layout(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Eval/ and Anno/ of DeepFashion In-shop"):
        read_deepfashion_inshop(tmp_path / "absent")


@pytest.mark.parametrize("crop_bbox", [False, True])
def test_datamodule_from_yaml_yields_batches(inshop_root: Path, crop_bbox: bool) -> None:
    module = build_from_yaml("deepfashion_inshop", root=str(inshop_root), crop_bbox=crop_bbox)
    assert module.relevance == "item"
    assert module.vocab.categories == ["Denim", "Dresses"]  # the training categories
    check_train_batch(module)
    test = eval_batches(module, "test")
    assert sorted(test[IS_QUERY].tolist()) == [False, False, False, True, True]
    assert (test[DOMAIN] == 0).all()  # all shop images
    test_rows = module.dataset("test").frame
    tees = (test_rows["category"] == "Tees_Tanks").to_numpy()
    assert (module.dataset("test").categories[tees] == -1).all()  # unseen in training
    assert module.dataset("test")[0][CATEGORY] == module.vocab.categories.index("Dresses")
