"""The ``manifest`` datamodule: CSV and Parquet files, root defaulting to the file's folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clothret.errors import DataError
from clothret.keys import IMAGE
from clothret.registry import build

from .conftest import tiny_rows, write_manifest


def node(path: Path, **extra) -> dict:
    return {"name": "manifest", "path": str(path), "num_workers": 0, "batch_size": 4, **extra}


def test_csv_manifest_with_relative_paths(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "data", tiny_rows())
    dm = build("datamodule", node(manifest), data_config={"input_size": 24})
    dm.setup()
    assert dm.root == tmp_path / "data" and dm.source == f"manifest '{manifest}'"
    assert next(iter(dm.test_dataloader()))[IMAGE].shape == (4, 3, 24, 24)


def test_parquet_manifest_and_explicit_root(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is needed for Parquet manifests")
    write_manifest(tmp_path / "images_root", tiny_rows())
    manifest = tmp_path / "meta" / "m.parquet"
    manifest.parent.mkdir()
    pd.DataFrame(tiny_rows()).to_parquet(manifest)
    dm = build("datamodule", node(manifest, root=str(tmp_path / "images_root")))
    dm.setup()
    assert len(dm.frame) == len(tiny_rows())


def test_errors_name_the_manifest(tmp_path: Path) -> None:
    rows = tiny_rows()
    rows[2]["split"] = "validation"
    manifest = write_manifest(tmp_path, rows)
    with pytest.raises(DataError, match=r"manifest '.*manifest.csv' row 2: column 'split'"):
        build("datamodule", node(manifest)).setup()
