"""CC0 clothing photo adapter on a fixture ``images.csv`` and on the real photos."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from clothret.datamodules.adapters.clothing_photos import read_clothing_photos
from clothret.keys import DOMAIN, IS_QUERY

from .conftest import (
    CLOTHING,
    CLOTHING_WITHOUT_IMAGE,
    build_from_yaml,
    check_train_batch,
    eval_batches,
    real_data,
)


def test_rows_labels_and_drops(
    clothing_photos_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        frame = read_clothing_photos(clothing_photos_root)
    excluded = ("Not sure", "Other")
    expected = {image: (label, kids) for image, _, label, kids in CLOTHING
                if label not in excluded and image != CLOTHING_WITHOUT_IMAGE}  # fmt: skip
    assert len(frame) == len(expected)
    for row in frame.itertuples():
        assert (row.category, row.attr_kids) == expected[row.item_id]
        assert Path(row.path) == clothing_photos_root / "images" / f"{row.item_id}.jpg"
    assert set(frame["domain"]) == {"consumer"}
    assert "2 rows dropped: label excluded or empty (Not sure, Other)" in caplog.text
    counts = frame.groupby(["category", "split"]).size().unstack(fill_value=0)
    assert counts.loc["T-Shirt"].to_dict() == {"gallery": 1, "query": 1, "train": 2}
    assert counts.loc["Hat"].to_dict() == {"gallery": 1, "query": 1, "train": 1}


def test_exclusion_can_be_turned_off(clothing_photos_root: Path) -> None:
    frame = read_clothing_photos(clothing_photos_root, exclude_labels=[])
    assert {"Not sure", "Other"} <= set(frame["category"])
    assert len(frame) == len(CLOTHING) - 1


def test_split_is_seeded(clothing_photos_root: Path) -> None:
    first = read_clothing_photos(clothing_photos_root, seed=2)
    assert first.equals(read_clothing_photos(clothing_photos_root, seed=2))


def test_real_photos() -> None:
    root = real_data("clothing-cc0")
    with (root / "images.csv").open(newline="") as handle:
        reference = {row["image"]: row for row in csv.DictReader(handle)}
    kept = {i: r for i, r in reference.items() if r["label"] not in ("Not sure", "Other")}
    frame = read_clothing_photos(root)
    assert len(frame) == len(kept) == len(reference) - 106 - 31  # README: 106 Not sure, 31 Other
    rows = frame.set_index("item_id")
    assert rows["category"].to_dict() == {i: r["label"] for i, r in kept.items()}
    assert rows["attr_kids"].to_dict() == {i: r["kids"] for i, r in kept.items()}
    assert frame["path"].map(lambda p: Path(p).is_file()).all()
    per_split = frame.groupby(["category", "split"]).size().unstack(fill_value=0)
    assert (per_split >= 1).all(axis=None)  # every label has >= 3 photos here
    train = set(frame.loc[frame["split"] == "train", "item_id"])
    assert not train & set(frame.loc[frame["split"] != "train", "item_id"])


def test_datamodule_from_yaml_yields_batches(clothing_photos_root: Path) -> None:
    module = build_from_yaml("clothing_photos", root=str(clothing_photos_root), split_seed=1)
    assert module.relevance == "category"
    assert module.runtime_info()["attribute_dims"] == {"kids": 2}
    check_train_batch(module)
    test = eval_batches(module, "test")
    assert (int(test[IS_QUERY].sum()), len(test[IS_QUERY])) == (3, 6)  # 1 + 1 per label
    assert (test[DOMAIN] == 1).all()
