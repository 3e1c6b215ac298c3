"""Helpers shared by the dataset adapters: published list files, drops with a report, column order.

Every adapter's reader returns a manifest frame (DESIGN §5) with absolute image paths, so that the
frame can be used alone, saved, or combined with another adapter's frame (``cross_domain``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from clothret.errors import DataError

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("path", "item_id", "category", "domain", "split")
BBOX_COLUMNS = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2")
EVAL_SPLITS = ("query", "gallery", "val_query", "val_gallery")


def dataset_root(root: str | Path, expected: str) -> Path:
    """``root`` as an absolute directory; a DataError names the expected layout if it is absent."""
    path = Path(root).expanduser().absolute()
    if not path.is_dir():
        raise DataError(
            f"Dataset root {str(path)!r} is not a directory; set root to the folder "
            f"holding {expected}."
        )
    return path


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a file, else a DataError saying which published file is missing."""
    if not path.is_file():
        raise DataError(
            f"Missing {what}: {str(path)!r}. Check that root points at the dataset "
            "folder as published (see the adapter's docstring for the layout)."
        )
    return path


def read_listing(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a DeepFashion list file: a row-count line, a header line, then whitespace rows.

    The format is parsed by hand because the count line precedes the header and the columns are
    aligned with a varying number of spaces; the count and header are checked so that a truncated
    or foreign file fails loudly.
    """
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DataError(
            f"{str(path)!r} must start with a row-count line and a header line "
            f"({' '.join(columns)}), as published."
        )
    header = lines[1].split()
    if header != list(columns):
        raise DataError(
            f"{str(path)!r} has header {' '.join(header)!r}; expected {' '.join(columns)!r}."
        )
    rows = [line.split() for line in lines[2:]]
    for number, row in enumerate(rows, start=3):
        if len(row) != len(columns):
            raise DataError(
                f"{str(path)!r} line {number} has {len(row)} fields; expected "
                f"{len(columns)} ({' '.join(columns)})."
            )
    if int(lines[0]) != len(rows):
        raise DataError(
            f"{str(path)!r} announces {int(lines[0])} rows but holds {len(rows)}; "
            "the file is truncated or edited: restore the published file."
        )
    return pd.DataFrame(rows, columns=list(columns))


def read_id_list(path: Path) -> list[str]:
    """Read a count line followed by one id per line (DeepFashion ``list_item_inshop.txt``)."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not lines or not lines[0].isdigit() or int(lines[0]) != len(lines) - 1:
        raise DataError(f"{str(path)!r} must hold a count line followed by that many ids.")
    return lines[1:]


def report_rows(what: str, values: Iterable[object], fix: str = "") -> None:
    """Log how many rows a reader dropped or changed (``what``), with the most frequent values."""
    counts = Counter(str(v) for v in values)
    if counts:
        shown = [f"{v} x{n}" if n > 1 else v for v, n in counts.most_common(5)]
        examples = ", ".join(shown) + (", ..." if len(counts) > 5 else "")
        suffix = f" {fix}" if fix else ""
        log.warning("%d rows %s (%s).%s", counts.total(), what, examples, suffix)


def drop_missing_images(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose ``path`` is an existing file; the others are dropped with a report."""
    exists = frame["path"].map(lambda p: Path(p).is_file())
    report_rows(
        "dropped: image file missing",
        frame.loc[~exists, "path"],
        "Download the missing images to include them.",
    )
    return frame[exists]


def drop_train_overlap(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop training rows of items that also have evaluation rows (evaluation keeps the item)."""
    eval_items = set(frame.loc[frame["split"].isin(EVAL_SPLITS), "item_id"])
    overlap = (frame["split"] == "train") & frame["item_id"].isin(eval_items)
    report_rows(
        "dropped from train: their item is also in an evaluation split", frame.loc[overlap, "path"]
    )
    return frame[~overlap]


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Manifest columns first (then bbox, then the rest sorted), string ids, fresh index."""
    frame = frame.astype({"item_id": str, "category": str})
    first = [c for c in (*MANIFEST_COLUMNS, *BBOX_COLUMNS) if c in frame.columns]
    rest = sorted(c for c in frame.columns if c not in first)
    return frame[first + rest].reset_index(drop=True)
