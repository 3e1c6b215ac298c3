"""Exact retrieval metrics over the whole evaluation set, computed once per epoch.

Each process keeps its batches' outputs; at epoch end they are gathered, padding duplicates are
dropped, process 0 computes the metrics (in query chunks, see ``clothret.retrieval.metrics``) and
the values are broadcast so every process logs the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pytorch_lightning as pl
import torch.distributed as dist
from torch import Tensor

from clothret import keys
from clothret.callbacks.gather import EvalOutputCallback, gather_to_all, merge_unique
from clothret.errors import ConfigError
from clothret.registry import register
from clothret.retrieval.ranking import machine_threads

RELEVANCE = ("auto", "item", "category")


@register("callback", "retrieval_metrics")
class RetrievalMetrics(EvalOutputCallback):
    """Logs ``<stage>/hit@k``, ``precision@k``, ``map@k`` for queries against the gallery.

    Args:
        ks: cut-offs; those larger than the gallery are dropped with one warning.
        metric: ``cosine`` or ``euclidean`` on the module's float retrieval feature.
        relevance: ``item`` (same item id), ``category`` (same category), or ``auto`` (what the
            datamodule declares).
        hamming: also rank by Hamming distance of binary codes (``<stage>/hamming/...``) when the
            module has a hash head.
        hierarchical_candidates: pool size of the coarse Hamming search before the float re-rank
            (Lin et al. 2015), logged as ``<stage>/hierarchical/...``; 0 disables.
        per_task: for modules with attribute outputs, ``<stage>/<task>/map@k`` with relevance =
            sharing a label of that task (multi-weight CNN protocol).
        chunk_size: queries per chunk of the exact computation (None: automatic).
    """

    def __init__(
        self,
        ks: Sequence[int] = (1, 5, 10, 20),
        metric: str = "cosine",
        relevance: str = "auto",
        hamming: bool = True,
        hierarchical_candidates: int = 100,
        per_task: bool = True,
        chunk_size: int | None = None,
    ) -> None:
        super().__init__()
        if relevance not in RELEVANCE:
            raise ConfigError(f"relevance must be one of {RELEVANCE}, got {relevance!r}.")
        if metric not in ("cosine", "euclidean"):
            raise ConfigError(f"metric must be 'cosine' or 'euclidean', got {metric!r}.")
        self.ks = tuple(int(k) for k in ks)
        self.metric = metric
        self.relevance = relevance
        self.hamming = hamming
        self.hierarchical_candidates = int(hierarchical_candidates)
        self.per_task = per_task
        self.chunk_size = chunk_size
        self.last: dict[str, float] = {}
        self._warned_ks = False

    # Lightning hooks ---------------------------------------------------------------------------
    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            self.collector.reset()
            return
        self._evaluate(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._evaluate(trainer, pl_module, "test")

    # computation -------------------------------------------------------------------------------
    def _evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        local = self.collector.local()
        self.collector.reset()
        if keys.INDEX not in local:
            return
        parts = gather_to_all(local)
        values: dict[str, float] = {}
        if trainer.is_global_zero:
            merged = merge_unique(parts, _expected_size(trainer, stage))
            with machine_threads():  # same result for 1 or N processes (see machine_threads)
                values = self.compute(merged, self._relevance(trainer))
        values = _broadcast(values)
        self.last = values
        for name, value in values.items():
            pl_module.log(f"{stage}/{name}", value, sync_dist=False)

    def _relevance(self, trainer: pl.Trainer) -> str:
        if self.relevance != "auto":
            return self.relevance
        return getattr(getattr(trainer, "datamodule", None), "relevance", "item") or "item"

    def compute(self, data: dict[str, Any], relevance: str) -> dict[str, float]:
        """Metrics of one gathered evaluation set (features, codes, labels, query flags)."""
        from clothret.retrieval.metrics import retrieval_metrics

        is_query = data[keys.IS_QUERY].bool()
        if not is_query.any() or is_query.all():
            warnings.warn(
                "Evaluation needs both queries and gallery images; metrics skipped.", stacklevel=2
            )
            return {}
        labels = data[keys.ITEM_ID if relevance == "item" else keys.CATEGORY]
        ks = self._valid_ks(int((~is_query).sum()))
        if not ks:
            return {}
        feats = data[keys.EMBEDDING].float()
        out: dict[str, float] = {}
        common = {"ks": ks, "chunk_size": self.chunk_size}
        out.update(
            retrieval_metrics(
                feats[is_query],
                labels[is_query],
                feats[~is_query],
                labels[~is_query],
                metric=self.metric,
                **common,
            )
        )
        codes = data.get(keys.CODES)
        if codes is not None and self.hamming:
            hamming = retrieval_metrics(
                codes[is_query],
                labels[is_query],
                codes[~is_query],
                labels[~is_query],
                metric="hamming",
                **common,
            )
            out.update({f"hamming/{k}": v for k, v in hamming.items()})
        if codes is not None and self.hierarchical_candidates > 0:
            out.update(self._hierarchical(feats, codes, labels, is_query, ks))
        attributes = data.get(keys.ATTRIBUTES)
        if self.per_task and attributes and keys.ATTRIBUTE_LOGITS in data:
            for task, targets in attributes.items():
                out.update(self._task_metrics(task, feats, targets, is_query, ks))
        return out

    def _hierarchical(
        self, feats: Tensor, codes: Tensor, labels: Tensor, is_query: Tensor, ks: tuple[int, ...]
    ) -> dict[str, float]:
        from clothret.retrieval.index import HierarchicalIndex
        from clothret.retrieval.metrics import ranking_metrics

        gallery_size = int((~is_query).sum())
        index = HierarchicalIndex(
            candidates=min(self.hierarchical_candidates, gallery_size), metric="euclidean"
        )
        index.add(features=feats[~is_query].numpy(), codes=codes[~is_query].numpy())
        _, ranked = index.search(
            features=feats[is_query].numpy(), codes=codes[is_query].numpy(), k=max(ks)
        )
        result = ranking_metrics(ranked, labels[is_query].numpy(), labels[~is_query].numpy(), ks)
        return {f"hierarchical/{k}": v for k, v in result.items()}

    def _task_metrics(
        self, task: str, feats: Tensor, targets: Tensor, is_query: Tensor, ks: tuple[int, ...]
    ) -> dict[str, float]:
        from clothret.retrieval.metrics import retrieval_metrics

        labelled = (targets >= 0).all(dim=1) & (targets > 0).any(dim=1)
        query, gallery = is_query & labelled, ~is_query & labelled
        task_ks = tuple(k for k in ks if k <= int(gallery.sum()))
        if not query.any() or not task_ks:
            return {}
        result = retrieval_metrics(
            feats[query],
            targets[query].bool(),
            feats[gallery],
            targets[gallery].bool(),
            ks=task_ks,
            metric=self.metric,
            chunk_size=self.chunk_size,
        )
        return {f"{task}/map@{k}": result[f"map@{k}"] for k in task_ks}

    def _valid_ks(self, gallery_size: int) -> tuple[int, ...]:
        ks = tuple(k for k in self.ks if k <= gallery_size)
        if len(ks) < len(self.ks) and not self._warned_ks:
            self._warned_ks = True
            dropped = [k for k in self.ks if k > gallery_size]
            warnings.warn(
                f"Dropping k={dropped}: larger than the gallery ({gallery_size} images).",
                stacklevel=2,
            )
        return ks


def _expected_size(trainer: pl.Trainer, stage: str) -> int | None:
    """Dataset length when every eval batch ran, else None (limited or fast_dev_run)."""
    limit = trainer.limit_val_batches if stage == "val" else trainer.limit_test_batches
    if (
        trainer.fast_dev_run
        or (isinstance(limit, int) and not isinstance(limit, bool))
        or limit < 1
    ):
        return None
    loaders = trainer.val_dataloaders if stage == "val" else trainer.test_dataloaders
    loader = loaders[0] if isinstance(loaders, list | tuple) else loaders
    dataset = getattr(loader, "dataset", None)
    return len(dataset) if dataset is not None else None


def _broadcast(values: dict[str, float]) -> dict[str, float]:
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    box = [values]
    dist.broadcast_object_list(box, src=0)
    return box[0]
