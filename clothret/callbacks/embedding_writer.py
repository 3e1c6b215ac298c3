"""Distributed embedding export: each process writes its shard, process 0 merges them.

Shards carry the dataset ``INDEX`` of every row, so the merged arrays are in dataset order and the
duplicates a distributed sampler pads with are dropped (see :func:`merge_unique`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from clothret import keys
from clothret.callbacks.gather import OutputCollector, merge_unique
from clothret.utils.io import atomic_write

SHARD_PATTERN = "shard-{rank:05d}.npz"
ARRAYS = {keys.EMBEDDING: "embeddings.npy", keys.CODES: "codes.npy", keys.INDEX: "index.npy"}


class EmbeddingWriter(pl.Callback):
    """Collects predict outputs and writes ``<out>/shard-<rank>.npz`` at the end of predict."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.collector = OutputCollector()

    def on_predict_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.collector.reset()

    def on_predict_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self.collector.add({k: v for k, v in outputs.items() if k in ARRAYS})

    def on_predict_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        local = {k: v.numpy() for k, v in self.collector.local().items()}
        self.collector.reset()
        buffer = io.BytesIO()
        np.savez(buffer, **local)
        shard = self.out_dir / SHARD_PATTERN.format(rank=trainer.global_rank)
        atomic_write(shard, lambda handle: handle.write(buffer.getbuffer()))


def merge_shards(out_dir: str | Path, expected: int) -> dict[str, np.ndarray]:
    """Merge every shard of ``out_dir`` into ``embeddings.npy`` (+ ``codes.npy``), in dataset
    order without duplicates, delete the shards and return the arrays."""
    out_dir = Path(out_dir)
    shards = sorted(out_dir.glob(SHARD_PATTERN.replace("{rank:05d}", "*")))
    parts = []
    for shard in shards:
        with np.load(shard, allow_pickle=False) as data:
            parts.append({k: torch.from_numpy(data[k]) for k in data.files})
    merged = {k: v.numpy() for k, v in merge_unique(parts, expected).items()}
    if keys.CODES in merged:
        merged[keys.CODES] = merged[keys.CODES].astype(np.uint8)
    for key, name in ARRAYS.items():
        if key in merged and key != keys.INDEX:
            array = merged[key]
            atomic_write(out_dir / name, lambda handle, a=array: np.save(handle, a))
    for shard in shards:
        shard.unlink()
    return merged
