"""Inverted-file search (faiss IVF-flat): a k-means coarse quantiser, as in ClothingNet.

``add`` trains the quantiser on the first batch it receives (k-means with ``nlist`` centroids,
faiss's fixed seed), then stores every vector in the list of its nearest centroid; ``search``
scans the ``nprobe`` lists nearest to the query. ``nprobe = nlist`` is exhaustive (exact).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from clothret.errors import ConfigError, DataError
from clothret.registry import register
from clothret.retrieval.index.base import Index, check_metric, faiss_distances
from clothret.retrieval.index.exact import FAISS_METRICS, flat_index, read_faiss


@register("index", "ivf")
class IVFIndex(Index):
    """Approximate float search with a k-means inverted file.

    Args:
        nlist: number of k-means cells; the first ``add`` needs at least this many vectors
            (faiss recommends ~40 per cell for good centroids).
        nprobe: cells scanned per query (speed/recall trade-off; may be changed after loading).
        metric: ``cosine`` or ``euclidean``.
    """

    type_name = "ivf"
    needs_features = True

    def __init__(self, nlist: int = 1024, nprobe: int = 32, metric: str = "cosine") -> None:
        super().__init__()
        if nlist < 1 or nprobe < 1:
            raise ConfigError(f"nlist and nprobe must be positive, got {nlist} and {nprobe}.")
        self.nlist, self.nprobe = int(nlist), int(nprobe)
        self.metric = check_metric(metric)
        self._index: faiss.IndexIVFFlat | None = None

    def params(self) -> dict:
        return {"nlist": self.nlist, "nprobe": self.nprobe, "metric": self.metric}

    def _add(self, features: np.ndarray | None, packed: np.ndarray | None) -> None:
        if self._index is None:
            if len(features) < self.nlist:
                raise DataError(
                    f"IVFIndex trains {self.nlist} k-means cells on its first add() but got only "
                    f"{len(features)} vectors: add at least nlist vectors at once or lower nlist."
                )
            dims = features.shape[1]
            quantizer = flat_index(dims, self.metric)
            index = faiss.IndexIVFFlat(quantizer, dims, self.nlist, FAISS_METRICS[self.metric])
            index.train(features)
            self._quantizer, self._index = quantizer, index  # keep the quantizer alive
        self._index.add(features)

    def _search(
        self, features: np.ndarray | None, packed: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        self._index.nprobe = min(self.nprobe, self.nlist)
        raw, pos = self._index.search(features, k)
        return faiss_distances(raw, self.metric), pos

    def _write(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / "ivf.faiss"))

    def _read(self, directory: Path) -> None:
        index = read_faiss(directory / "ivf.faiss", self.metric, self.dims)
        if not isinstance(index, faiss.IndexIVFFlat) or index.nlist != self.nlist:
            raise DataError(
                f"{directory / 'ivf.faiss'} is not an IVF-flat index of {self.nlist} cells."
            )
        self._index = index

    def _count(self) -> int:
        return self._index.ntotal
