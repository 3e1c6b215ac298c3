"""Exhaustive float search: faiss flat index (inner product on L2-normalised vectors, or L2).

faiss's blocked sgemm + heap selection beat numpy matmul over gallery blocks + ``torch.topk``
by ~3x per query at 10^6 x 512-d on one core (benchmarks/search.py, exact_engines), once its
sgemm path is enabled for small batches too (:func:`clothret.retrieval.ranking.faiss_blas`).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from clothret.errors import DataError
from clothret.registry import register
from clothret.retrieval.index.base import Index, check_metric, faiss_distances
from clothret.retrieval.ranking import faiss_blas

FAISS_METRICS = {"cosine": faiss.METRIC_INNER_PRODUCT, "euclidean": faiss.METRIC_L2}


def flat_index(dims: int, metric: str) -> faiss.Index:
    """An empty faiss flat index for ``metric`` (cosine = inner product of unit vectors)."""
    return faiss.IndexFlatIP(dims) if metric == "cosine" else faiss.IndexFlatL2(dims)


def read_faiss(path: Path, metric: str, dims: int | None) -> faiss.Index:
    """A float faiss index file, checked against the metadata's metric and dimensions."""
    index = faiss.read_index(str(path))
    if index.metric_type != FAISS_METRICS[metric] or index.d != dims:
        raise DataError(f"{path} does not match its metadata ({metric}, {dims} dimensions).")
    return index


@register("index", "exact")
class ExactIndex(Index):
    """Exact nearest neighbours on float features.

    Args:
        metric: ``cosine`` (features are L2-normalised, distance 1 - cosine similarity) or
            ``euclidean`` (L2 distance).
    """

    type_name = "exact"
    needs_features = True

    def __init__(self, metric: str = "cosine") -> None:
        super().__init__()
        self.metric = check_metric(metric)
        self._index: faiss.Index | None = None

    def params(self) -> dict:
        return {"metric": self.metric}

    def _add(self, features: np.ndarray | None, packed: np.ndarray | None) -> None:
        if self._index is None:
            self._index = flat_index(features.shape[1], self.metric)
        self._index.add(features)

    def _search(
        self, features: np.ndarray | None, packed: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        with faiss_blas(self._index.d):
            raw, pos = self._index.search(features, k)
        return faiss_distances(raw, self.metric), pos

    def _write(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / "features.faiss"))

    def _read(self, directory: Path) -> None:
        self._index = read_faiss(directory / "features.faiss", self.metric, self.dims)

    def _count(self) -> int:
        return self._index.ntotal
