"""Tiny manifests with real image files, written into tmp_path by each test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

CATEGORIES = ("shirt", "dress")
COLORS = ("red", "blue", "NA")


def write_image(path: Path, size: tuple[int, int] = (40, 32), seed: int = 0) -> Path:
    """A small random RGB JPEG/PNG (format from the suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def tiny_rows(train_items: int = 4, eval_items: int = 3, val_items: int = 0) -> list[dict]:
    """Rows: training items with 3 images each; evaluation items with 1 consumer query and
    2 shop gallery images (optionally the same for val_query / val_gallery)."""
    rows = []

    def add(item: str, index: int, split: str, domain: str, k: int) -> None:
        rows.append(
            {
                "path": f"images/{item}_{k}.jpg",
                "item_id": item,
                "category": CATEGORIES[index % 2],
                "domain": domain,
                "split": split,
                "attr_color": COLORS[index % 3],
                "attr_pattern": ["stripes|dots", "", "solid"][k % 3],
            }
        )

    for i in range(train_items):
        for k in range(3):
            add(f"t{i}", i, "train", ("shop", "consumer")[k % 2], k)
    for prefix, query, gallery, count in (
        ("e", "query", "gallery", eval_items),
        ("v", "val_query", "val_gallery", val_items),
    ):
        for i in range(count):
            add(f"{prefix}{i}", i, query, "consumer", 0)
            add(f"{prefix}{i}", i, gallery, "shop", 1)
            add(f"{prefix}{i}", i, gallery, "shop", 2)
    return rows


def write_manifest(root: Path, rows: list[dict], name: str = "manifest.csv") -> Path:
    """Write the images the rows name (unless they exist) and the manifest CSV."""
    for n, row in enumerate(rows):
        target = root / row["path"]
        if not target.exists():
            write_image(target, seed=n)
    path = root / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def tiny_manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path, tiny_rows())
