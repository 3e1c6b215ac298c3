"""ManifestDataset: the batch dict of DESIGN §1, bbox crops, labels from the vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from clothret.datamodules.dataset import FILE, ManifestDataset
from clothret.datamodules.manifest import validate_manifest
from clothret.datamodules.vocab import Vocab
from clothret.errors import DataError
from clothret.keys import ATTRIBUTES, CATEGORY, DOMAIN, IMAGE, INDEX, IS_QUERY, ITEM_ID

from .conftest import tiny_rows, write_manifest


def as_array(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image).copy())


def make(tmp_path: Path, rows: list[dict], **kwargs) -> ManifestDataset:
    write_manifest(tmp_path, rows)
    frame = validate_manifest(pd.DataFrame(rows))
    frame[FILE] = [str(tmp_path / p) for p in frame["path"]]
    vocab = Vocab.from_frame(frame[frame["split"] == "train"])
    items = {item: i for i, item in enumerate(sorted(set(frame["item_id"])))}
    return ManifestDataset(frame, items, vocab, kwargs.pop("transform", as_array), **kwargs)


def test_samples_carry_the_manifest_labels(tmp_path: Path) -> None:
    rows = tiny_rows()
    rows[-1]["category"] = "hat"  # only in evaluation: unknown
    dataset = make(tmp_path, rows, is_query=np.arange(len(rows)) % 2 == 0)
    items = sorted({r["item_id"] for r in rows})
    categories = sorted({r["category"] for r in rows if r["split"] == "train"})
    colors = sorted({r["attr_color"] for r in rows if r["split"] == "train"})
    assert dataset.unknown_categories == {"hat": 1}
    for i, row in enumerate(rows):
        sample = dataset[i]
        assert sample[INDEX] == i and sample[IS_QUERY] == (i % 2 == 0)
        assert sample[ITEM_ID] == items.index(row["item_id"])
        expected_category = categories.index(row["category"]) if row["category"] != "hat" else -1
        assert sample[CATEGORY] == expected_category
        assert sample[DOMAIN] == {"shop": 0, "consumer": 1}[row["domain"]]
        color = torch.zeros(len(colors))
        color[colors.index(row["attr_color"])] = 1.0
        torch.testing.assert_close(sample[ATTRIBUTES]["color"], color)
        pattern = sample[ATTRIBUTES]["pattern"]
        assert (pattern == -1).all() if row["attr_pattern"] == "" else (pattern >= 0).all()
        on_disk = np.asarray(Image.open(tmp_path / row["path"]).convert("RGB"))
        assert np.abs(sample[IMAGE].numpy().astype(int) - on_disk).mean() < 1.0


def test_collated_batch_shapes(tmp_path: Path) -> None:
    dataset = make(tmp_path, tiny_rows(), transform=lambda im: torch.zeros(3, 8, 8))
    batch = torch.utils.data.default_collate([dataset[i] for i in range(4)])
    assert batch[IMAGE].shape == (4, 3, 8, 8)
    assert batch[ITEM_ID].dtype == torch.long and batch[CATEGORY].dtype == torch.long
    assert batch[ATTRIBUTES]["color"].shape == (4, 3) and IS_QUERY not in batch


def with_box(box: tuple[float, float, float, float]) -> list[dict]:
    rows = tiny_rows()
    for row in rows:
        row.update(bbox_x1="", bbox_y1="", bbox_x2="", bbox_y2="")
    rows[0].update(bbox_x1=box[0], bbox_y1=box[1], bbox_x2=box[2], bbox_y2=box[3])
    return rows


def test_bbox_crop_with_margin(tmp_path: Path) -> None:
    rows = with_box((10, 8, 30, 24))  # 20 x 16 box in a 40 x 32 image
    dataset = make(tmp_path, rows, crop_bbox=True, bbox_margin=0.25)
    full = np.asarray(Image.open(tmp_path / rows[0]["path"]).convert("RGB")).astype(int)
    # margin 0.25: 5 px left/right, 4 px top/bottom
    expected = full[8 - 4 : 24 + 4, 10 - 5 : 30 + 5]
    assert np.abs(dataset[0][IMAGE].numpy().astype(int) - expected).mean() < 1.0
    assert dataset[1][IMAGE].shape == (32, 40, 3)  # rows without a box are not cropped
    clamped = make(tmp_path / "b", with_box((2, 2, 38, 30)), crop_bbox=True, bbox_margin=0.5)
    assert clamped[0][IMAGE].shape == (32, 40, 3)


def test_bbox_outside_the_image_names_row_and_file(tmp_path: Path) -> None:
    dataset = make(tmp_path, with_box((10, 8, 60, 24)), crop_bbox=True)
    with pytest.raises(DataError, match=r"row 0: bbox .* lies outside the 40x32 image.*t0_0.jpg"):
        dataset[0]
