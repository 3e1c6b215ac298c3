"""Read and validate a manifest: the one table, one row per image, every dataset becomes (§5).

Validation turns each manifest problem into a :class:`~clothret.errors.DataError` naming the row
(0-based data row, as ``df.iloc[row]``), the column and what is expected, before any training.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from clothret.errors import ConfigError, DataError
from clothret.keys import DOMAIN_CONSUMER, DOMAIN_SHOP
from clothret.registry import did_you_mean

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("path", "item_id", "category", "domain", "split")
SPLITS = ("train", "query", "gallery", "val_query", "val_gallery")
EVAL_SPLITS = ("query", "gallery", "val_query", "val_gallery")
DOMAINS = {"shop": DOMAIN_SHOP, "consumer": DOMAIN_CONSUMER}
BBOX_COLUMNS = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2")
SIZE_COLUMNS = ("width", "height")  # optional: lets bboxes be checked without opening images
ATTR_PREFIX = "attr_"
ROW = "row"  # column added by validation: the row of the image in the manifest as given
# Coordinates may exceed the image by this many pixels (inclusive x2/y2 conventions); clamped.
BBOX_TOLERANCE = 1.0


def read_manifest_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet manifest: every cell a string, "NA" a value and not a missing one."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Manifest file not found: '{path}'. Check data.path.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except ImportError as err:
            raise DataError(
                f"Reading the Parquet manifest '{path}' needs pyarrow: `pip install pyarrow`, "
                "or save the manifest as CSV."
            ) from err
        return frame.astype(object).where(frame.notna(), "").astype(str)
    # keep_default_na=False: the literal "NA" is a label value and empty cells stay "".
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def attribute_tasks(frame: pd.DataFrame) -> list[str]:
    """Attribute task names: the ``attr_<task>`` columns, without the prefix."""
    return [c[len(ATTR_PREFIX) :] for c in frame.columns if c.startswith(ATTR_PREFIX)]


def select_attributes(frame: pd.DataFrame, tasks: list[str], source: str) -> pd.DataFrame:
    """Keep only the ``attr_<task>`` columns of ``tasks``; an absent task is an error."""
    available = attribute_tasks(frame)
    for task in tasks:
        if task not in available:
            raise ConfigError(
                f"Attribute task {task!r} (data.attributes) is not in {source}."
                f"{did_you_mean(task, available)} Tasks there: {', '.join(available) or '(none)'}."
            )
    unused = [ATTR_PREFIX + t for t in available if t not in tasks]
    return frame.drop(columns=unused)


def validate_manifest(frame: pd.DataFrame, source: str = "manifest") -> pd.DataFrame:
    """Check a manifest and return a normalised copy with a ``row`` column.

    Args:
        frame: the manifest as read (columns of DESIGN §5).
        source: where it came from, for messages (a file name or an adapter name).

    Raises:
        DataError: naming the row/column and what is expected, for a missing required column, an
            empty required cell, an unknown split or domain, a duplicate image, a malformed or
            out-of-image bbox, or an item in both the training split and an evaluation split.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source} is missing required column(s) {', '.join(map(repr, missing))}; a manifest "
            f"needs {', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(BBOX_COLUMNS)}, mask_path, "
            f"attr_<task>)."
        )
    frame = frame.reset_index(drop=True).copy()
    frame[ROW] = np.arange(len(frame))
    for column in REQUIRED_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
        empty = np.flatnonzero(frame[column].to_numpy() == "")
        if len(empty):
            raise DataError(
                f"{source} row {empty[0]}: column '{column}' is empty ({len(empty)} such rows); "
                f"every row needs a {column}."
            )
    for column, allowed in (("split", SPLITS), ("domain", tuple(DOMAINS))):
        frame[column] = frame[column].str.lower()
        bad = np.flatnonzero(~frame[column].isin(allowed).to_numpy())
        if len(bad):
            raise DataError(
                f"{source} row {bad[0]}: column '{column}' has {frame[column].iat[bad[0]]!r}; "
                f"expected one of {', '.join(allowed)}."
            )
    for column in frame.columns:
        if column.startswith(ATTR_PREFIX):
            frame[column] = frame[column].fillna("").astype(str).str.strip()
    _check_bboxes(frame, source)
    _check_duplicates(frame, source)
    _check_item_leak(frame, source)
    return frame


def _check_bboxes(frame: pd.DataFrame, source: str) -> None:
    present = [c for c in BBOX_COLUMNS if c in frame.columns]
    if not present:
        return
    if len(present) != len(BBOX_COLUMNS):
        absent = sorted(set(BBOX_COLUMNS) - set(present))
        raise DataError(f"{source} has {present} but not {absent}; give all four bbox columns.")
    for column in (*BBOX_COLUMNS, *(c for c in SIZE_COLUMNS if c in frame.columns)):
        raw = frame[column].replace("", np.nan)
        values = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero((values.isna() & raw.notna()).to_numpy())
        if len(bad):
            raise DataError(
                f"{source} row {bad[0]}: column '{column}' has {raw.iat[bad[0]]!r}; expected a "
                "number of pixels or an empty cell."
            )
        frame[column] = values.astype(float)
    boxes = frame[list(BBOX_COLUMNS)].to_numpy(float)
    partial = np.flatnonzero(np.isnan(boxes).any(1) & ~np.isnan(boxes).all(1))
    if len(partial):
        raise DataError(f"{source} row {partial[0]}: bbox is partly empty; give all four or none.")
    with np.errstate(invalid="ignore"):
        wrong = (boxes[:, 0] >= boxes[:, 2]) | (boxes[:, 1] >= boxes[:, 3])
        wrong |= (boxes[:, :2] < -BBOX_TOLERANCE).any(1)
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise DataError(
            f"{source} row {row}: bbox {boxes[row].tolist()} is not a box inside the image; "
            "expected 0 <= bbox_x1 < bbox_x2 and 0 <= bbox_y1 < bbox_y2 (pixels)."
        )
    if all(c in frame.columns for c in SIZE_COLUMNS):
        sizes = frame[list(SIZE_COLUMNS)].to_numpy(float)
        with np.errstate(invalid="ignore"):
            outside = (boxes[:, 2] > sizes[:, 0] + BBOX_TOLERANCE) | (
                boxes[:, 3] > sizes[:, 1] + BBOX_TOLERANCE
            )
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise DataError(bbox_outside_message(source, row, boxes[row], sizes[row]))


def bbox_outside_message(source: str, row: int, box: np.ndarray, size: np.ndarray) -> str:
    """The error text for a bbox that extends past the image (shared with the image checks)."""
    return (
        f"{source} row {row}: bbox {np.asarray(box).tolist()} lies outside the "
        f"{int(size[0])}x{int(size[1])} image; expected bbox_x2 <= width and bbox_y2 <= height."
    )


def _check_duplicates(frame: pd.DataFrame, source: str) -> None:
    # One photo may hold several garments, so a path may repeat only with different boxes.
    key = ["path", *(c for c in BBOX_COLUMNS if c in frame.columns)]
    duplicated = frame.duplicated(key, keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        first = frame["path"].iat[rows[0]]
        same = rows[frame["path"].to_numpy()[rows] == first][:2]
        raise DataError(
            f"{source} rows {same[0]} and {same[1]}: duplicate image path {first!r}; each image "
            "appears once (or once per different bbox)."
        )


def _check_item_leak(frame: pd.DataFrame, source: str) -> None:
    train_items = set(frame.loc[frame["split"] == "train", "item_id"])
    leaking = frame[(frame["split"] != "train") & frame["item_id"].isin(train_items)]
    if len(leaking):
        item = leaking["item_id"].iat[0]
        train_row = int(frame.index[(frame["split"] == "train") & (frame["item_id"] == item)][0])
        raise DataError(
            f"{source}: item {item!r} is in the training split (row {train_row}) and in the "
            f"{leaking['split'].iat[0]!r} split (row {int(leaking[ROW].iat[0])}); an item must be "
            "in training or in evaluation, not both."
        )


def check_eval_sets(frame: pd.DataFrame, source: str, query: str, gallery: str) -> None:
    """Raise when the evaluation pair ``query``/``gallery`` has an empty side."""
    for split in (query, gallery):
        if not (frame["split"] == split).any():
            raise DataError(
                f"{source} has no '{split}' rows; evaluation needs both '{query}' and '{gallery}' "
                "images (column 'split')."
            )


def queries_without_relevant(
    frame: pd.DataFrame, relevance: str, query: str = "query", gallery: str = "gallery"
) -> int:
    """Number of query images with no relevant gallery image (same item or same category)."""
    key = "item_id" if relevance == "item" else "category"
    gallery_keys = set(frame.loc[frame["split"] == gallery, key])
    queries = frame.loc[frame["split"] == query, key]
    return int((~queries.isin(gallery_keys)).sum())


def subset_items(frame: pd.DataFrame, limit: int, seed: int = 0) -> pd.DataFrame:
    """At most ``limit`` items of the training split and of each evaluation pair (smoke runs).

    Evaluation items with both query and gallery images come first, then query-only and
    gallery-only items alternate, so a small subset still has both sides.
    """
    rng = np.random.default_rng(seed)
    split, items = frame["split"], frame["item_id"]
    train = sorted(set(items[split == "train"]))
    keep = {train[i] for i in rng.permutation(len(train))[:limit]}
    for query, gallery in (("query", "gallery"), ("val_query", "val_gallery")):
        q, g = set(items[split == query]), set(items[split == gallery])
        both, only_q, only_g = (sorted(s) for s in (q & g, q - g, g - q))
        shuffled = [[s[i] for i in rng.permutation(len(s))] for s in (both, only_q, only_g)]
        alternating = [x for pair in zip(shuffled[1], shuffled[2], strict=False) for x in pair]
        shorter = min(len(shuffled[1]), len(shuffled[2]))
        rest = shuffled[1][shorter:] + shuffled[2][shorter:]
        keep.update((shuffled[0] + alternating + rest)[:limit])
    return frame[items.isin(keep).to_numpy()]
