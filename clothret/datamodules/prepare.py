"""From a subclass's raw manifest to the validated rows a run uses (files checked, subsets)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from clothret.datamodules import manifest as mf
from clothret.datamodules.dataset import FILE
from clothret.datamodules.images import BadImage, BadImageError, scan_images, write_bad_images
from clothret.errors import DataError

log = logging.getLogger(__name__)


def resolve_files(frame: pd.DataFrame, root: Path | None) -> pd.DataFrame:
    """Add the ``file`` column: ``path`` joined to ``root`` unless absolute."""
    paths = frame["path"].tolist()
    if root is not None:
        base = str(root)
        paths = [p if os.path.isabs(p) else os.path.join(base, p) for p in paths]
    frame[FILE] = paths
    return frame


def check_files_exist(frame: pd.DataFrame) -> None:
    """Under ``on_bad_image=error``, fail before training if any image file is missing."""
    missing = [i for i, f in enumerate(frame[FILE]) if not os.path.isfile(f)]
    if missing:
        first = missing[0]
        raise BadImageError(
            frame[FILE].iat[first],
            f"file not found ({len(missing)} of {len(frame)} image files are missing)",
            int(frame[mf.ROW].iat[first]),
        )


def drop_bad_images(
    frame: pd.DataFrame,
    source: str,
    threads: int = 8,
    report_dir: Path | None = None,
) -> tuple[pd.DataFrame, list[BadImage]]:
    """Check every image, drop the unusable rows and list them in ``bad_images.csv``.

    A bbox outside its (readable) image is a manifest error and still raises.

    Args:
        frame: rows with the ``file`` column.
        source: the manifest's name, for messages.
        threads: checking threads.
        report_dir: where ``bad_images.csv`` goes (None: not written).
    """
    rows = frame[mf.ROW].astype(int).tolist()
    bad, sizes = scan_images(frame[FILE].tolist(), rows, threads)
    if all(c in frame for c in mf.BBOX_COLUMNS):
        boxes = frame[list(mf.BBOX_COLUMNS)].to_numpy(float)
        for row, box, size in zip(rows, boxes, sizes, strict=True):
            if size is not None and (
                box[2] > size[0] + mf.BBOX_TOLERANCE or box[3] > size[1] + mf.BBOX_TOLERANCE
            ):
                raise DataError(mf.bbox_outside_message(source, row, box, size))
    if bad:
        where = "not written: no run_dir"
        if report_dir is not None:
            where = f"listed in {write_bad_images(bad, report_dir)}"
        log.warning(
            "Skipped %d bad image(s) of %d (on_bad_image=skip; %s).", len(bad), len(frame), where
        )
    bad_rows = {b.row for b in bad}
    return frame[~frame[mf.ROW].isin(bad_rows).to_numpy()], bad


def split_report(
    frame: pd.DataFrame, relevance: str, pairs: dict[str, tuple[str, str]], log_it: bool = True
) -> dict:
    """Images per split and, per evaluation stage, queries without a relevant gallery image
    (allowed: they count as misses; logged so that a low score is not a mystery).

    Args:
        frame: the rows in use.
        relevance: ``item`` or ``category``.
        pairs: stage → (query split, gallery split).
        log_it: log the warnings (the main process only).
    """
    counts = frame["split"].value_counts()
    report: dict = {"images": {s: int(counts.get(s, 0)) for s in mf.SPLITS}}
    for stage, (query, gallery) in pairs.items():
        lost = mf.queries_without_relevant(frame, relevance, query, gallery)
        report[f"{stage}_queries_without_relevant"] = lost
        if lost and log_it:
            log.warning(
                "%d of %d '%s' images have no relevant '%s' image (relevance=%s); they count as "
                "misses in the metrics.",
                lost,
                int(counts.get(query, 0)),
                query,
                gallery,
                relevance,
            )
    return report
