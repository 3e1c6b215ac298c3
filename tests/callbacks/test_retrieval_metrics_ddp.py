"""The metric callback logs the same values with 1 and 2 processes (CPU DDP, gloo).

The evaluation set of the sample data is cut to 62 queries + 63 gallery images: with 2
processes the distributed sampler pads one share with a repeated image, which the callback must
drop (it raises if the gathered set is not exactly the dataset).

Every process runs with one thread, as Lightning gives each of 2 DDP processes on 2 cores: the
float32 distances (faiss / BLAS) differ in the last bits with the thread count, which can swap
near-tied gallery images, and that is not what this test is about.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _odd_manifest(sample_data: Path, out: Path) -> Path:
    """40 training and 21 evaluation items of the sample data, minus one query image."""
    frame = pd.read_csv(sample_data / "manifest.csv", keep_default_na=False, dtype=str)
    train = sorted(frame.loc[frame["split"] == "train", "item_id"].unique())[:40]
    evaluation = sorted(frame.loc[frame["split"] == "query", "item_id"].unique())[:21]
    kept = frame[frame["item_id"].isin([*train, *evaluation])]
    kept = kept.drop(kept.index[kept["split"] == "query"][0])
    kept.to_csv(out, index=False)
    return out


def _clothret(*argv: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "clothret.cli", *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(Path(done.stdout.strip().splitlines()[-1]).read_text())


def test_one_and_two_processes_log_identical_metrics(sample_data: Path, tmp_path: Path) -> None:
    manifest = _odd_manifest(sample_data, tmp_path / "manifest.csv")
    frame = pd.read_csv(manifest, dtype=str)
    assert frame["split"].isin(["query", "gallery"]).sum() % 2 == 1
    common = [
        "experiment=latent_hash",  # float, Hamming and hierarchical metrics
        "data=manifest",
        f"data.path={manifest}",
        f"data.root={sample_data}",
        "data.batch_size=16",
        "data.eval_batch_size=16",
        "data.num_workers=0",
        "data.relevance=item",
        "backbone=tiny_convnet",
        "trainer.enable_progress_bar=false",
    ]
    fit = _clothret(
        "fit",
        *common,
        f"run_dir={tmp_path / 'fit'}",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=0",
        "callbacks.checkpoint.monitor=null",
    )
    ckpt = f"ckpt_path={fit['last_checkpoint']}"
    one = _clothret("validate", *common, ckpt, f"run_dir={tmp_path / 'one'}")["metrics"]
    ddp = ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp"]
    two = _clothret("validate", *common, *ddp, ckpt, f"run_dir={tmp_path / 'two'}")["metrics"]
    for family in ("val/hit@10", "val/hamming/map@10", "val/hierarchical/precision@5"):
        assert family in one
    assert two == one
