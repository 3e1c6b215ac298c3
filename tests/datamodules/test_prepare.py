"""on_bad_image: ``skip`` drops exactly the bad rows and lists them; ``error`` stops early."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd
import pytest

from clothret.datamodules.dataset import FILE
from clothret.datamodules.manifest import validate_manifest
from clothret.datamodules.prepare import check_files_exist, drop_bad_images, resolve_files
from clothret.errors import DataError
from clothret.keys import IMAGE
from clothret.registry import build

from .conftest import tiny_rows, write_manifest

CORRUPT = {1: "images/t0_1.jpg", 7: "images/t2_1.jpg", 13: "images/e0_1.jpg"}


def corrupt(root: Path) -> None:
    """Three bad files: truncated, zero-size and missing."""
    truncated = root / CORRUPT[1]
    truncated.write_bytes(truncated.read_bytes()[:200])
    (root / CORRUPT[7]).write_bytes(b"")
    (root / CORRUPT[13]).unlink()


def test_skip_drops_exactly_the_three_bad_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = tiny_rows()
    manifest = write_manifest(tmp_path, rows)
    corrupt(tmp_path)
    node = {
        "name": "manifest",
        "path": str(manifest),
        "on_bad_image": "skip",
        "batch_size": 4,
        "num_workers": 0,
        "sampler": {"name": "pk", "k": 2},
    }
    dm = build("datamodule", node, data_config={"input_size": 32}, run_dir=str(tmp_path / "run"))
    with caplog.at_level(logging.WARNING):
        dm.setup("fit")
    assert sorted(dm.frame["row"]) == sorted(set(range(len(rows))) - set(CORRUPT))
    assert dm.report["bad_images"] == 3
    with (tmp_path / "run" / "bad_images.csv").open() as f:
        listed = list(csv.DictReader(f))
    assert [(Path(r["path"]).relative_to(tmp_path).as_posix(), int(r["row"])) for r in listed] == [
        (path, row) for row, path in sorted(CORRUPT.items())
    ]
    reasons = [r["reason"] for r in listed]
    assert "cannot decode" in reasons[0] and reasons[1:] == ["zero-size file", "file not found"]
    assert any("Skipped 3 bad image(s) of 21" in r.getMessage() for r in caplog.records)
    for loader in (dm.train_dataloader(), dm.val_dataloader()):
        for batch in loader:  # every remaining image decodes
            assert torch_finite(batch[IMAGE])


def torch_finite(images) -> bool:
    return bool(images.isfinite().all())


def test_error_policy_fails_before_training_on_a_missing_file(tmp_path: Path) -> None:
    write_manifest(tmp_path, tiny_rows())
    (tmp_path / CORRUPT[13]).unlink()
    frame = resolve_files(validate_manifest(pd.DataFrame(tiny_rows())), tmp_path)
    with pytest.raises(DataError, match=r"e0_1.jpg' \(manifest row 13\): file not found \(1 of 21"):
        check_files_exist(frame)


def test_skip_still_rejects_a_bbox_outside_its_image(tmp_path: Path) -> None:
    rows = tiny_rows()
    for row in rows:
        row.update(bbox_x1=0, bbox_y1=0, bbox_x2=10, bbox_y2=10)
    rows[4]["bbox_x2"] = 90  # images are 40 x 32
    write_manifest(tmp_path, rows)
    frame = resolve_files(validate_manifest(pd.DataFrame(rows)), tmp_path)
    with pytest.raises(DataError, match=r"row 4: bbox .* lies outside the 40x32 image"):
        drop_bad_images(frame, "m")


def test_absolute_paths_ignore_root(tmp_path: Path) -> None:
    frame = pd.DataFrame({"path": ["/abs/a.jpg", "rel/b.jpg"]})
    assert resolve_files(frame, tmp_path)[FILE].tolist() == ["/abs/a.jpg", f"{tmp_path}/rel/b.jpg"]
