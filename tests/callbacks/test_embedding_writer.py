"""Embedding export: per-process shards merged in dataset order; `clothret embed` on 2 processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from clothret import keys
from clothret.callbacks.embedding_writer import EmbeddingWriter, merge_shards

N, DIM, BITS = 7, 3, 5
RNG = np.random.default_rng(0)
EMBEDDINGS = RNG.normal(size=(N, DIM)).astype(np.float32)
CODES = RNG.integers(0, 2, size=(N, BITS)).astype(bool)
# A DistributedSampler over 7 samples and 2 processes: rank 1 repeats sample 0 as padding.
SHARES = {0: [0, 2, 4, 6], 1: [1, 3, 5, 0]}


def _write_shards(out: Path, batch_size: int = 3) -> None:
    for rank, share in SHARES.items():
        writer, trainer = EmbeddingWriter(out), SimpleNamespace(global_rank=rank)
        writer.on_predict_epoch_start(trainer, None)
        for start in range(0, len(share), batch_size):
            rows = share[start : start + batch_size]
            outputs = {
                keys.EMBEDDING: torch.from_numpy(EMBEDDINGS[rows]),
                keys.CODES: torch.from_numpy(CODES[rows]),
                keys.INDEX: torch.tensor(rows),
                keys.ITEM_ID: torch.tensor(rows),  # not exported
            }
            writer.on_predict_batch_end(trainer, None, outputs, None, start // batch_size)
        writer.on_predict_epoch_end(trainer, None)


def test_shards_merge_in_dataset_order_without_padding(tmp_path: Path) -> None:
    _write_shards(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard-00000.npz", "shard-00001.npz"]
    merged = merge_shards(tmp_path, expected=N)
    assert merged[keys.INDEX].tolist() == list(range(N))
    np.testing.assert_array_equal(merged[keys.EMBEDDING], EMBEDDINGS)
    assert merged[keys.CODES].dtype == np.uint8
    np.testing.assert_array_equal(merged[keys.CODES], CODES.astype(np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes.npy", "embeddings.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "embeddings.npy"), EMBEDDINGS)
    np.testing.assert_array_equal(np.load(tmp_path / "codes.npy"), CODES.astype(np.uint8))


def test_merge_rejects_a_missing_sample(tmp_path: Path) -> None:
    _write_shards(tmp_path)
    (tmp_path / "shard-00001.npz").unlink()  # samples 1, 3, 5 are gone
    with pytest.raises(RuntimeError, match="4 distinct samples but the dataset has 7"):
        merge_shards(tmp_path, expected=N)


# ---------------------------------------------------------------------------- 2 processes
def _odd_manifest(sample_data: Path, out: Path) -> Path:
    """40 training and 21 evaluation items of the sample data: a gallery of 63 images."""
    frame = pd.read_csv(sample_data / "manifest.csv", keep_default_na=False, dtype=str)
    train = sorted(frame.loc[frame["split"] == "train", "item_id"].unique())[:40]
    evaluation = sorted(frame.loc[frame["split"] == "query", "item_id"].unique())[:21]
    frame[frame["item_id"].isin([*train, *evaluation])].to_csv(out, index=False)
    return out


def _clothret(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "clothret.cli", *argv], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_embed_on_two_processes_equals_one_process(sample_data: Path, tmp_path: Path) -> None:
    common = [
        "experiment=smoke",
        "data=manifest",
        f"data.path={_odd_manifest(sample_data, tmp_path / 'manifest.csv')}",
        f"data.root={sample_data}",
        "data.batch_size=16",
        "data.eval_batch_size=16",  # 63 gallery images: uneven last batches on both processes
        "data.num_workers=0",
        "backbone=tiny_convnet",
        "trainer.enable_progress_bar=false",
    ]
    fit = json.loads(
        Path(
            _clothret(
                "fit",
                *common,
                f"run_dir={tmp_path / 'fit'}",
                "trainer.max_epochs=1",
                "trainer.limit_train_batches=1",
                "trainer.limit_val_batches=0",
                "callbacks.checkpoint.monitor=null",
            )
        ).read_text()
    )
    ckpt = f"ckpt_path={fit['last_checkpoint']}"
    one = Path(_clothret("embed", *common, ckpt, "--out", str(tmp_path / "one")))
    spawn = ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp_spawn"]
    two = Path(_clothret("embed", *common, *spawn, ckpt, "--out", str(tmp_path / "two")))

    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in one.iterdir())
    assert not list(two.glob("shard-*"))
    emb_one, emb_two = np.load(one / "embeddings.npy"), np.load(two / "embeddings.npy")
    assert emb_one.shape == (63, 128)
    np.testing.assert_allclose(emb_two, emb_one, rtol=1e-5, atol=1e-6)
    assert (two / "items.csv").read_text() == (one / "items.csv").read_text()
    gallery = pd.read_csv(tmp_path / "manifest.csv", dtype=str)
    gallery = gallery[gallery["split"] == "gallery"]
    items = pd.read_csv(two / "items.csv", dtype=str)
    assert items["item_id"].tolist() == gallery["item_id"].tolist()
    assert json.loads((two / "meta.json").read_text())["count"] == 63
