"""A training run with data.on_bad_image=skip trains on the good images and reports the bad ones."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from clothret.cli import main


def test_skip_policy_trains_on_the_rest_and_reports_exactly_the_bad_files(
    sample_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = pd.read_csv(sample_data / "manifest.csv", keep_default_na=False)
    manifest["path"] = [str(sample_data / p) for p in manifest["path"]]
    train_rows = manifest.index[manifest["split"] == "train"][:3]
    bad = tmp_path / "bad"
    bad.mkdir()
    truncated, empty, missing = bad / "truncated.jpg", bad / "empty.jpg", bad / "missing.jpg"
    data = Path(manifest.loc[train_rows[0], "path"]).read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    empty.write_bytes(b"")
    shutil.copyfile(manifest.loc[train_rows[2], "path"], missing)
    missing.unlink()
    manifest.loc[train_rows, "path"] = [str(truncated), str(empty), str(missing)]
    manifest_path = tmp_path / "manifest.csv"
    manifest.to_csv(manifest_path, index=False)

    run_dir = tmp_path / "run"
    argv = [
        "fit", "experiment=smoke", "data=manifest", f"data.path={manifest_path}",
        "data.on_bad_image=skip", "data.num_workers=0", f"run_dir={run_dir}",
        "trainer.max_epochs=1", "trainer.limit_train_batches=2",
        "trainer.enable_progress_bar=false",
    ]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads(Path(capsys.readouterr().out.strip().splitlines()[-1]).read_text())
    assert metrics["metrics"]["train/loss"] is not None
    assert metrics["metrics"]["val/hit@1"] is not None  # the full evaluation set still ran
    with open(run_dir / "bad_images.csv", newline="") as handle:
        reported = list(csv.DictReader(handle))
    assert sorted(Path(r["path"]).name for r in reported) == sorted(
        ["truncated.jpg", "empty.jpg", "missing.jpg"]
    )
    assert all(r["reason"] for r in reported)


def test_error_policy_names_the_file_and_row(
    sample_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = pd.read_csv(sample_data / "manifest.csv", keep_default_na=False)
    manifest["path"] = [str(sample_data / p) for p in manifest["path"]]
    manifest.loc[5, "path"] = str(tmp_path / "gone.jpg")
    manifest_path = tmp_path / "manifest.csv"
    manifest.to_csv(manifest_path, index=False)
    argv = ["fit", "experiment=smoke", "data=manifest", f"data.path={manifest_path}",
            f"run_dir={tmp_path / 'run'}", "trainer.fast_dev_run=true"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "gone.jpg" in err and "5" in err
