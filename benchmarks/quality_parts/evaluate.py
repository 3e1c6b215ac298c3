"""The benchmark's two retrieval tasks on the test split, from any per-image representation.

* ``shop``: shop test photos against each other (self excluded), relevant = same articleType.
* ``cross``: consumer test photos against the shop test photos of the nine coarse categories,
  relevant = same coarse category.

Float representations are ranked by cosine similarity, ``{0,1}`` codes by Hamming distance
(ties by gallery order), and the hierarchical search by Hamming candidates re-ranked on floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from benchmarks.quality_parts.data import ATTRIBUTE_TASKS, codes
from clothret.retrieval.index import HierarchicalIndex
from clothret.retrieval.metrics import ranking_metrics, retrieval_metrics

K = 10
KS = (1, K)


class Tasks:
    """Row selections and labels of both tasks for one frame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        test = frame["split"].to_numpy() == "test"
        shop = frame["domain"].to_numpy() == "shop"
        self.shop_rows = np.flatnonzero(test & shop)
        self.shop_labels = codes(frame["article"].iloc[self.shop_rows])
        mapped = frame["coarse"].to_numpy() != ""
        self.query_rows = np.flatnonzero(test & ~shop & mapped)
        self.gallery_rows = np.flatnonzero(test & shop & mapped)
        coarse = codes(frame["coarse"])
        self.query_labels, self.gallery_labels = coarse[self.query_rows], coarse[self.gallery_rows]
        self.attributes = {
            task: frame[f"attr_{task}"].iloc[self.shop_rows].to_numpy() for task in ATTRIBUTE_TASKS
        }

    def ceilings(self) -> dict[str, float]:
        """Best possible precision@10 of each task: mean of min(10, relevant)/10."""
        same = self.shop_labels[:, None] == self.shop_labels[None, :]
        shop_relevant = same.sum(1) - 1
        cross_relevant = (self.query_labels[:, None] == self.gallery_labels[None, :]).sum(1)
        return {
            "shop": float(np.mean(np.minimum(K, shop_relevant) / K)),
            "cross": float(np.mean(np.minimum(K, cross_relevant) / K)),
        }

    def evaluate(self, rep: Any, metric: str = "cosine") -> dict[str, dict[str, float]]:
        """Both tasks' precision@10, map@10 and hit@1 for a ``[N, D]`` representation."""
        x = torch.as_tensor(np.asarray(rep))
        if metric == "cosine":
            x = torch.nn.functional.normalize(x.float(), dim=1)
        shop = retrieval_metrics(
            x[self.shop_rows], self.shop_labels, x[self.shop_rows], self.shop_labels,
            ks=KS, metric=metric, exclude_self=True,
        )  # fmt: skip
        cross = retrieval_metrics(
            x[self.query_rows], self.query_labels, x[self.gallery_rows], self.gallery_labels,
            ks=KS, metric=metric,
        )  # fmt: skip
        return {"shop": summary(shop), "cross": summary(cross)}

    def attribute_map(self, rep: Any) -> dict[str, float]:
        """map@10 per shop attribute task (relevant = same value; unlabelled images left out)."""
        x = torch.nn.functional.normalize(torch.as_tensor(np.asarray(rep)).float(), dim=1)
        x = x[self.shop_rows]
        out = {}
        for task, values in self.attributes.items():
            keep = np.flatnonzero(values != "")
            labels = codes(pd.Series(values[keep]))
            result = retrieval_metrics(
                x[keep], labels, x[keep], labels, ks=KS, metric="cosine", exclude_self=True
            )
            out[task] = round(result[f"map@{K}"], 4)
        return out

    def hierarchical(self, floats: Any, bits: Any, candidates: int) -> dict[str, dict[str, float]]:
        """Both tasks through :class:`HierarchicalIndex` (Hamming pool, cosine re-ranking)."""
        floats = np.asarray(floats, dtype=np.float32)
        bits = np.asarray(bits).astype(bool)

        def search(queries: np.ndarray, gallery: np.ndarray, k: int) -> np.ndarray:
            index = HierarchicalIndex(candidates=candidates, metric="cosine")
            index.add(features=floats[gallery], codes=bits[gallery])
            return index.search(features=floats[queries], codes=bits[queries], k=k)[1]

        ranked = search(self.shop_rows, self.shop_rows, K + 1)  # one extra: the query itself
        ranked = np.array([row[row != i][:K] for i, row in enumerate(ranked)])
        shop = ranking_metrics(ranked, self.shop_labels, self.shop_labels, ks=KS)
        ranked = search(self.query_rows, self.gallery_rows, K)
        cross = ranking_metrics(ranked, self.query_labels, self.gallery_labels, ks=KS)
        return {"shop": summary(shop), "cross": summary(cross)}


def summary(result: dict[str, float]) -> dict[str, float]:
    """The three numbers the table shows."""
    return {name: round(result[name], 4) for name in (f"precision@{K}", f"map@{K}", "hit@1")}
