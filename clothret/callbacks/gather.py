"""Collect per-batch evaluation outputs and merge them across processes without duplicates.

A ``DistributedSampler`` pads the last shard by repeating samples so every process gets the same
number of batches; those repeats carry an ``INDEX`` already seen and are dropped here, and the
result is checked to hold exactly the evaluated samples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytorch_lightning as pl
import torch
import torch.distributed as dist

from clothret import keys


class OutputCollector:
    """Accumulates the tensors (and dicts of tensors) of each eval batch on the CPU."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Any]] = defaultdict(list)

    def reset(self) -> None:
        self.parts.clear()

    def add(self, outputs: Mapping[str, Any]) -> None:
        for key, value in outputs.items():
            if isinstance(value, torch.Tensor):
                self.parts[key].append(value.detach().cpu())
            elif isinstance(value, Mapping):
                self.parts[key].append({k: v.detach().cpu() for k, v in value.items()})

    def local(self) -> dict[str, Any]:
        """This process's outputs, concatenated per key (dict values per sub-key)."""
        merged: dict[str, Any] = {}
        for key, chunks in self.parts.items():
            if isinstance(chunks[0], dict):
                merged[key] = {k: torch.cat([c[k] for c in chunks]) for k in chunks[0]}
            else:
                merged[key] = torch.cat(chunks)
        return merged


class EvalOutputCallback(pl.Callback):
    """Base of callbacks that keep each validation/test batch's outputs for the epoch's end.

    Subclasses choose the kept output keys (``kept``, None = all) and when to collect
    (``collecting``), and read ``self.collector`` in their epoch-end hooks.
    """

    kept: ClassVar[tuple[str, ...] | None] = None

    def __init__(self) -> None:
        self.collector = OutputCollector()

    def collecting(self, trainer: pl.Trainer, stage: str) -> bool:
        """Whether batches of ``stage`` (``val`` or ``test``) are kept now."""
        return True

    def _keep(self, trainer: pl.Trainer, outputs: Any, stage: str) -> None:
        if isinstance(outputs, Mapping) and self.collecting(trainer, stage):
            kept = self.kept
            self.collector.add({k: v for k, v in outputs.items() if kept is None or k in kept})

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.collector.reset()

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.collector.reset()

    def on_validation_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._keep(trainer, outputs, "val")

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._keep(trainer, outputs, "test")


def gather_to_all(local: dict[str, Any]) -> list[dict[str, Any]]:
    """Every process's dict, in rank order (just ``[local]`` without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [local]
    numpy_local = _to_numpy(local)
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, numpy_local)
    return [_to_torch(part) for part in gathered]


def merge_unique(parts: list[dict[str, Any]], expected: int | None) -> dict[str, Any]:
    """Concatenate per-process outputs, drop repeated ``INDEX`` rows, sort by index.

    Args:
        parts: outputs of each process, each holding ``keys.INDEX``.
        expected: number of samples that were evaluated; the merged indices must be exactly
            ``0..expected-1``. None skips the check (e.g. when batches were limited).
    """
    merged: dict[str, Any] = {}
    for key in parts[0]:
        values = [p[key] for p in parts if key in p]
        if isinstance(values[0], dict):
            merged[key] = {k: torch.cat([v[k] for v in values]) for k in values[0]}
        else:
            merged[key] = torch.cat(values)
    index = merged[keys.INDEX].numpy()
    _, first = np.unique(index, return_index=True)  # sorted unique indices, first occurrence
    order = torch.from_numpy(first)
    result = {
        key: ({k: v[order] for k, v in value.items()} if isinstance(value, dict) else value[order])
        for key, value in merged.items()
    }
    if expected is not None:
        got = result[keys.INDEX].numpy()
        if len(got) != expected or (expected and (got[0] != 0 or got[-1] != expected - 1)):
            raise RuntimeError(
                f"Evaluation gathered {len(got)} distinct samples but the dataset has {expected}; "
                "every sample must be evaluated exactly once (check the eval sampler)."
            )
    return result


def _to_numpy(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ({kk: vv.numpy() for kk, vv in v.items()} if isinstance(v, dict) else v.numpy())
        for k, v in data.items()
    }


def _to_torch(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (
            {kk: torch.from_numpy(vv) for kk, vv in v.items()}
            if isinstance(v, dict)
            else torch.from_numpy(v)
        )
        for k, v in data.items()
    }
