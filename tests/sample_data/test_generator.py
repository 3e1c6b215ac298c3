"""End-to-end checks of generate_sample_data: determinism, manifest schema, split rules, labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from clothret.errors import ConfigError
from clothret.sample_data import generate_sample_data

EXPECTED_COLUMNS = [
    "path",
    "item_id",
    "category",
    "domain",
    "split",
    "bbox_x1",
    "bbox_y1",
    "bbox_x2",
    "bbox_y2",
    "mask_path",
    "attr_pattern",
    "attr_sleeve",
    "attr_length",
    "attr_colors",
]
CATEGORIES = {"t-shirt", "shirt", "trousers", "shorts", "dress", "skirt", "jacket", "shoes"}
SLEEVED = {"t-shirt", "shirt", "dress", "jacket"}
WITH_LENGTH = {"trousers", "shorts", "skirt", "dress", "jacket"}
COLOR_ORDER = [
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "navy",
    "purple",
    "pink",
    "brown",
    "beige",
]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_gives_identical_files(small_set: Path, small_params: dict, tmp_path: Path):
    again = generate_sample_data(tmp_path, seed=0, workers=1, **small_params)
    assert again.read_bytes() == small_set.read_bytes()
    df = pd.read_csv(again, keep_default_na=False)
    for rel in list(df.path[::5]) + list(df.mask_path[::5]):
        first = np.asarray(Image.open(small_set.parent / rel))
        second = np.asarray(Image.open(tmp_path / rel))
        np.testing.assert_array_equal(first, second)
    assert _files(small_set.parent) == _files(tmp_path)


def test_worker_count_does_not_change_output(small_set: Path, small_set_two_workers: Path):
    assert _files(small_set.parent) == _files(small_set_two_workers.parent)


def test_other_seed_gives_other_data(small_set: Path, small_set_other_seed: Path):
    assert small_set.read_bytes() != small_set_other_seed.read_bytes()
    df = pd.read_csv(small_set, keep_default_na=False)
    changed = [
        not np.array_equal(
            np.asarray(Image.open(small_set.parent / rel)),
            np.asarray(Image.open(small_set_other_seed.parent / rel)),
        )
        for rel in df.path
    ]
    assert np.mean(changed) > 0.95


def test_manifest_schema(small_df: pd.DataFrame, small_set: Path, small_params: dict):
    assert list(small_df.columns) == EXPECTED_COLUMNS
    per_item = small_params["shop_views"] + small_params["consumer_views"]
    assert len(small_df) == small_params["num_items"] * per_item
    assert small_df.path.is_unique and small_df.mask_path.is_unique
    for rel in list(small_df.path) + list(small_df.mask_path):
        assert not Path(rel).is_absolute() and (small_set.parent / rel).is_file()
    assert set(small_df.domain) == {"shop", "consumer"}
    assert set(small_df.split) == {"train", "query", "gallery"}
    assert set(small_df.category) == CATEGORIES
    for _, rows in small_df.groupby("item_id"):
        assert (rows.domain == "shop").sum() == small_params["shop_views"]
        assert (rows.domain == "consumer").sum() == small_params["consumer_views"]
        labels = rows[["category", "attr_pattern", "attr_sleeve", "attr_length", "attr_colors"]]
        assert len(labels.drop_duplicates()) == 1  # labels belong to the item, not the view


def test_split_rules(small_df: pd.DataFrame):
    train_items = set(small_df.item_id[small_df.split == "train"])
    eval_items = set(small_df.item_id[small_df.split != "train"])
    assert train_items and eval_items and not train_items & eval_items
    queries = small_df[small_df.split == "query"]
    gallery = small_df[small_df.split == "gallery"]
    assert set(queries.domain) == {"consumer"} and set(gallery.domain) == {"shop"}
    assert set(queries.item_id) == set(gallery.item_id) == eval_items
    for category in CATEGORIES:
        items = small_df[small_df.category == category].drop_duplicates("item_id")
        n_train = int((items.split == "train").sum())
        assert 1 <= n_train <= len(items) - 1
        assert n_train == min(max(round(0.6 * len(items)), 1), len(items) - 1)


def test_attributes_in_vocabularies(small_df: pd.DataFrame):
    sizes = set()
    for row in small_df.itertuples():
        assert row.attr_pattern in {"solid", "stripes", "checks", "dots", "print"}
        if row.category in SLEEVED:
            assert row.attr_sleeve in {"none", "short", "long"}
        else:
            assert row.attr_sleeve == ""
        if row.category in WITH_LENGTH:
            assert row.attr_length in {"short", "knee", "long"}
        else:
            assert row.attr_length == ""
        colors = row.attr_colors.split("|")
        assert all(c in COLOR_ORDER for c in colors) and len(set(colors)) == len(colors)
        assert colors == sorted(colors, key=COLOR_ORDER.index)
        assert len(colors) == (1 if row.attr_pattern == "solid" else 2)
        sizes.add(len(colors))
    assert sizes == {1, 2}  # real multi-hot targets: both single- and two-colour items


def test_images_masks_and_boxes(small_df: pd.DataFrame, small_set: Path, small_params: dict):
    size = small_params["image_size"]
    for row in small_df.itertuples():
        image = Image.open(small_set.parent / row.path)
        assert image.format == "JPEG" and image.mode == "RGB" and image.size == (size, size)
        mask = Image.open(small_set.parent / row.mask_path)
        assert mask.format == "PNG" and mask.mode == "L" and mask.size == (size, size)
        pixels = np.asarray(mask)
        assert set(np.unique(pixels)) <= {0, 255}
        ys, xs = np.nonzero(pixels)
        extent = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        box = tuple(int(v) for v in (row.bbox_x1, row.bbox_y1, row.bbox_x2, row.bbox_y2))
        assert 0 <= box[0] < box[2] <= size and 0 <= box[1] < box[3] <= size
        assert max(abs(a - b) for a, b in zip(extent, box, strict=True)) <= 1, row.path


def test_description_files(small_set: Path, small_df: pd.DataFrame, small_params: dict):
    meta = json.loads((small_set.parent / "sample_data.json").read_text())
    assert meta["params"] == {**small_params, "seed": 0, "train_fraction": 0.6}
    assert meta["num_images"] == len(small_df)
    assert meta["split_counts"] == small_df.split.value_counts().to_dict()
    assert "seed 0" in (small_set.parent / "README.txt").read_text()
    assert not list(small_set.parent.glob(".*.tmp"))  # atomic writes left no temp files


def test_consumer_views_find_their_item_by_colour(tmp_path: Path):
    manifest = generate_sample_data(
        tmp_path, num_items=64, shop_views=1, consumer_views=1, image_size=48, workers=1
    )
    df = pd.read_csv(manifest, keep_default_na=False)

    def histograms(rows: pd.DataFrame) -> np.ndarray:
        out = []
        for rel in rows.path:
            bins = np.asarray(Image.open(tmp_path / rel)).astype(np.int64) * 4 // 256
            codes = bins[..., 0] * 16 + bins[..., 1] * 4 + bins[..., 2]
            out.append(np.sqrt(np.bincount(codes.ravel(), minlength=64)))
        feats = np.asarray(out, dtype=np.float64)
        return feats / np.linalg.norm(feats, axis=1, keepdims=True)

    queries, gallery = df[df.split == "query"], df[df.split == "gallery"]
    nearest = (histograms(queries) @ histograms(gallery).T).argmax(axis=1)
    hit_at_1 = np.mean(gallery.item_id.to_numpy()[nearest] == queries.item_id.to_numpy())
    chance = 1 / gallery.item_id.nunique()
    assert hit_at_1 > 3 * chance


@pytest.mark.parametrize(
    "override",
    [
        {"num_items": 15},
        {"train_fraction": 1.0},
        {"seed": -1},
        {"shop_views": 0},
        {"image_size": 16},
        {"workers": 0},
    ],
)
def test_invalid_arguments_are_config_errors(tmp_path: Path, override: dict):
    with pytest.raises(ConfigError, match=next(iter(override))):
        generate_sample_data(tmp_path, **override)
