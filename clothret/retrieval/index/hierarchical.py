"""Coarse-to-fine search of Lin et al. 2015 (§3.3): Hamming pool, then exact float re-rank.

Coarse level: the query's binary code selects a candidate pool from the gallery codes, either
the ``candidates`` nearest in Hamming distance or every item within ``hamming_radius`` bits (the
paper's threshold; both together keep at most ``candidates`` of those within the radius).
Fine level: the pool is ranked by the exact distance between float features (euclidean in the
paper) and the top k are returned.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import torch

from clothret.errors import ConfigError, DataError
from clothret.registry import register
from clothret.retrieval.index.base import Index, check_metric
from clothret.retrieval.index.binary import binary_index, hamming_search, read_binary

RERANK_ELEMENTS = 1 << 22  # query-candidate distances per re-rank block (16 MB of float32)


@register("index", "hierarchical")
class HierarchicalIndex(Index):
    """Binary-code candidate pool re-ranked on float features (needs features and codes).

    Args:
        candidates: pool size: the nearest codes by Hamming distance (None: no cap).
        hamming_radius: if set, the pool is every item within this many differing bits
            (at most ``candidates`` of them, the nearest, when both are set).
        metric: re-ranking distance, ``euclidean`` (the paper) or ``cosine``.
    """

    type_name = "hierarchical"
    needs_features = True
    needs_codes = True

    def __init__(
        self,
        candidates: int | None = 1000,
        hamming_radius: int | None = None,
        metric: str = "euclidean",
    ) -> None:
        super().__init__()
        if candidates is None and hamming_radius is None:
            raise ConfigError("HierarchicalIndex needs candidates, hamming_radius or both.")
        if candidates is not None and candidates < 1:
            raise ConfigError(f"candidates must be a positive integer, got {candidates}.")
        if hamming_radius is not None and hamming_radius < 0:
            raise ConfigError(f"hamming_radius must be >= 0, got {hamming_radius}.")
        self.candidates, self.hamming_radius = candidates, hamming_radius
        self.metric = check_metric(metric)
        self._codes_index: faiss.IndexBinaryFlat | None = None
        self._features = np.empty((0, 0), dtype=np.float32)

    def params(self) -> dict:
        return {
            "candidates": self.candidates,
            "hamming_radius": self.hamming_radius,
            "metric": self.metric,
        }

    def _add(self, features: np.ndarray | None, packed: np.ndarray | None) -> None:
        if self._codes_index is None:
            self._codes_index = binary_index(self.bits)
            self._features = np.empty((0, features.shape[1]), dtype=np.float32)
        self._codes_index.add(packed)
        self._features = np.concatenate([self._features, features])

    def _search(
        self, features: np.ndarray | None, packed: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._rerank(features, self.candidate_pool(packed), k)

    def candidate_pool(self, packed: np.ndarray) -> np.ndarray:
        """Positions ``[Q, P]`` of the coarse Hamming pool, nearest first, -1 padded."""
        n = self._codes_index.ntotal
        if self.hamming_radius is None:
            return hamming_search(self._codes_index, packed, min(self.candidates, n), sort=False)[1]
        # faiss keeps distances strictly below the radius it is given.
        lims, dist, pos = self._codes_index.range_search(packed, self.hamming_radius + 1)
        pools = []
        for q in range(len(packed)):
            d, p = dist[lims[q] : lims[q + 1]], pos[lims[q] : lims[q + 1]]
            pools.append(p[np.lexsort((p, d))][: self.candidates])
        width = max(1, max(len(p) for p in pools))
        out = np.full((len(packed), width), -1, dtype=np.int64)
        for q, p in enumerate(pools):
            out[q, : len(p)] = p
        return out

    def _rerank(
        self, features: np.ndarray, pool: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances from each query to its pool; the k closest, ties in pool order."""
        n_query, width = pool.shape
        kk = min(k, width)
        dist_out = np.full((n_query, k), np.inf, dtype=np.float32)
        pos_out = np.full((n_query, k), -1, dtype=np.int64)
        # faiss computes query-to-listed-rows distances in place (no [Q, P, D] gather; ~7x
        # faster than torch indexing + bmm); rows listed as -1 get an infinite distance.
        by_index = (
            faiss.fvec_inner_products_by_idx if self.metric == "cosine" else faiss.fvec_L2sqr_by_idx
        )
        block = max(1, RERANK_ELEMENTS // width)
        for start in range(0, n_query, block):
            cand = np.ascontiguousarray(pool[start : start + block], dtype=np.int64)
            query = np.ascontiguousarray(features[start : start + block])
            raw = np.empty(cand.shape, dtype=np.float32)
            by_index(
                faiss.swig_ptr(raw),
                faiss.swig_ptr(query),
                faiss.swig_ptr(self._features),
                faiss.swig_ptr(cand),
                self._features.shape[1],
                len(cand),
                width,
            )
            dist = 1.0 - raw if self.metric == "cosine" else np.sqrt(np.maximum(raw, 0.0))
            best, order = torch.sort(torch.from_numpy(dist), dim=1, stable=True)
            dist_out[start : start + block, :kk] = best[:, :kk].numpy()
            pos_out[start : start + block, :kk] = np.take_along_axis(cand, order[:, :kk].numpy(), 1)
        pos_out[~np.isfinite(dist_out)] = -1
        dist_out[pos_out < 0] = np.inf
        return dist_out, pos_out

    def _write(self, directory: Path) -> None:
        faiss.write_index_binary(self._codes_index, str(directory / "codes.faiss"))
        np.save(directory / "features.npy", self._features, allow_pickle=False)

    def _read(self, directory: Path) -> None:
        self._codes_index = read_binary(directory / "codes.faiss", self.bits)
        self._features = np.load(directory / "features.npy", allow_pickle=False)
        if self._features.dtype != np.float32 or self._features.shape[1:] != (self.dims,):
            raise DataError(f"{directory / 'features.npy'} does not match its metadata.")
        if len(self._features) != self._codes_index.ntotal:
            raise DataError(f"{directory}: features and codes hold different item counts.")

    def _count(self) -> int:
        return self._codes_index.ntotal
