"""Files that describe a generated dataset: ``manifest.csv``, ``sample_data.json``, ``README.txt``.

Each is written to a temporary file in the same folder and renamed over the target, so a reader
never sees a half-written manifest.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from clothret.sample_data.vocab import ATTRIBUTE_VALUES, CATEGORIES
from clothret.utils.io import atomic_write_text

GENERATOR_VERSION = "1.0"
COLUMNS: tuple[str, ...] = (
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
)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write_text(path, text)


def write_manifest(root: Path, rows: list[list[str]]) -> Path:
    """Write the rows (in ``COLUMNS`` order) as ``root/manifest.csv``; returns its path."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    manifest = root / "manifest.csv"
    write_atomic(manifest, buffer.getvalue())
    return manifest


def write_description(root: Path, params: dict, rows: list[list[str]]) -> None:
    """Write ``sample_data.json`` (version, parameters, counts, vocabularies) and ``README.txt``."""
    split = COLUMNS.index("split")
    counts = {
        name: sum(row[split] == name for row in rows) for name in ("train", "query", "gallery")
    }
    meta = {
        "generator": "clothret.sample_data",
        "version": GENERATOR_VERSION,
        "params": params,
        "num_images": len(rows),
        "split_counts": counts,
        "categories": list(CATEGORIES),
        "attributes": {task: list(values) for task, values in ATTRIBUTE_VALUES.items()},
        "columns": list(COLUMNS),
    }
    write_atomic(root / "sample_data.json", json.dumps(meta, indent=2) + "\n")
    size = params["image_size"]
    readme = (
        f"clothret generated sample data (generator version {GENERATOR_VERSION}, "
        f"seed {params['seed']}).\n"
        f"{params['num_items']} synthetic garments in {len(CATEGORIES)} categories, "
        f"{params['shop_views']} shop + {params['consumer_views']} consumer views each, "
        f"{size}x{size} RGB JPEG: {len(rows)} images "
        f"({counts['train']} train, {counts['query']} query, {counts['gallery']} gallery).\n"
        "manifest.csv: one row per image (path relative to this folder, item_id, category, "
        "domain, split, bbox in final pixel coordinates, mask_path, attr_* labels; multi-label "
        "colours joined by '|', empty = not applicable). Read it with "
        "pandas.read_csv(..., keep_default_na=False) to keep empty labels empty.\n"
        "Regenerate with clothret.sample_data.generate_sample_data(out_dir, seed=...) or "
        "`clothret sample-data DIR`; the parameters are in sample_data.json.\n"
    )
    write_atomic(root / "README.txt", readme)
