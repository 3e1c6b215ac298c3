"""The ``image_folder`` datamodule: both layouts, seeded stratified split by item."""

from __future__ import annotations

from pathlib import Path

import pytest

from clothret.errors import DataError
from clothret.registry import build

from .conftest import write_image


def nested(root: Path) -> None:
    for c, category in enumerate(("dress", "shirt")):
        for i in range(6):
            for k in range(3):
                write_image(root / category / f"item{i}" / f"{k}.jpg", seed=c * 100 + i * 10 + k)


def flat(root: Path) -> None:
    for c, category in enumerate(("dress", "shirt", "shoes")):
        for i in range(8):
            write_image(root / category / f"{i}.png", seed=c * 100 + i)


def make(root: Path, **extra):
    dm = build("datamodule", {"name": "image_folder", "root": str(root), "num_workers": 0, **extra})
    dm.setup()
    return dm


def test_item_folders_split_by_item_per_category(tmp_path: Path) -> None:
    nested(tmp_path)
    dm = make(tmp_path, seed=4)
    frame = dm.frame
    assert dm.relevance == "item" and len(frame) == 36
    for category, rows in frame.groupby("category"):
        train = set(rows.loc[rows["split"] == "train", "item_id"])
        evaluation = set(rows.loc[rows["split"] != "train", "item_id"])
        assert len(train) == 4 and not train & evaluation  # 0.7 × 6 items, rounded down
        assert all(i.startswith(f"{category}/") for i in train | evaluation)
        for _, item_rows in rows[rows["split"] != "train"].groupby("item_id"):
            assert sorted(item_rows["split"]) == ["gallery", "gallery", "query"]  # 0.5 × 3 -> 1
    again = make(tmp_path, seed=4).frame
    assert again[["path", "split"]].equals(frame[["path", "split"]])
    other = make(tmp_path, seed=5).frame.set_index("path")["split"]
    assert not other.sort_index().equals(frame.set_index("path")["split"].sort_index())


def test_flat_folders_are_category_level(tmp_path: Path) -> None:
    flat(tmp_path)
    dm = make(tmp_path, train_fraction=0.5)
    frame = dm.frame
    assert dm.relevance == "category" and frame["item_id"].nunique() == len(frame) == 24
    counts = frame.groupby(["category", "split"]).size().unstack()
    assert counts["train"].tolist() == [4, 4, 4]
    assert (counts["query"] == 2).all() and (counts["gallery"] == 2).all()


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Image folder not found"):
        make(tmp_path / "nope")
    (tmp_path / "dress").mkdir()
    with pytest.raises(DataError, match="No images under"):
        make(tmp_path)
