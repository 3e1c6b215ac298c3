"""Exact retrieval metrics: hit@k, precision@k and mAP@k, computed in chunks of queries.

Definitions (for each k; every query counts, a query with nothing relevant scores 0):

* ``hit@k``: fraction of queries with at least one relevant item in the top k (top-k accuracy,
  CMC@k, the Recall@k of the DeepFashion papers).
* ``precision@k``: mean over queries of (relevant items in the top k) / k.
* ``map@k``: mean over queries of AP@k = (1/M) * sum_{r<=k} P(r) * rel(r), where P(r) is the
  precision at rank r and M the number of relevant items within the top k (AP@k = 0 when M = 0).
* ``queries_without_relevant``: number of queries with no relevant item in the whole gallery.

Relevance: 1-D labels are relevant when equal; 2-D multi-hot labels ``[N, L]`` when they share at
least one label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from clothret.errors import ConfigError, DataError
from clothret.retrieval.ranking import CHUNK_ELEMENTS, rank_gallery

DEFAULT_KS = (1, 5, 10, 20, 50)


def retrieval_metrics(
    query: Any,
    query_labels: Any,
    gallery: Any,
    gallery_labels: Any,
    ks: Sequence[int] = DEFAULT_KS,
    metric: str = "cosine",
    exclude_self: bool = False,
    chunk_size: int | None = None,
) -> dict[str, float]:
    """Exact hit@k, precision@k and map@k of ranking ``gallery`` for each ``query``.

    Args:
        query: ``[Q, D]`` float features, or ``[Q, bits]`` {0,1} codes (bool/uint8) for Hamming;
            numpy array or torch tensor.
        query_labels: ``[Q]`` integer labels or ``[Q, L]`` multi-hot labels.
        gallery: ``[G, D]`` features or ``[G, bits]`` codes.
        gallery_labels: ``[G]`` or ``[G, L]``, the same kind as ``query_labels``.
        ks: cut-offs; each must be at most G (G - 1 with ``exclude_self``), else ValueError.
        metric: ``cosine``, ``euclidean`` or ``hamming``; ties go to the lower gallery index.
        exclude_self: query and gallery are the same set in the same order; gallery item i is
            never a result for query i.
        chunk_size: queries ranked at once; memory is O(chunk_size * G + Q * max(ks)).

    Returns:
        ``hit@k``, ``precision@k``, ``map@k`` for every k and ``queries_without_relevant``.
    """
    ks = check_ks(ks)
    n_query, n_gallery = len(query), len(gallery)
    q_labels, g_labels = prepare_labels(query_labels, gallery_labels, n_query, n_gallery)
    limit = n_gallery - int(exclude_self)
    if ks[-1] > limit:
        raise ConfigError(
            f"k={ks[-1]} is larger than the gallery size {n_gallery}"
            + (" minus 1 (exclude_self)" if exclude_self else "")
            + "; drop that k or use a larger gallery."
        )
    ranked = rank_gallery(query, gallery, ks[-1], metric, exclude_self, chunk_size)
    counts = count_relevant(q_labels, g_labels, exclude_self)
    return ranking_metrics(ranked, q_labels, g_labels, ks, relevant_counts=counts)


def ranking_metrics(
    ranked_ids: Any,
    query_labels: Any,
    gallery_labels: Any,
    ks: Sequence[int] = DEFAULT_KS,
    relevant_counts: Any = None,
) -> dict[str, float]:
    """The metrics of :func:`retrieval_metrics` from an already computed ranking.

    Args:
        ranked_ids: ``[Q, K]`` gallery indices (rows of ``gallery_labels``), best first; -1 marks
            "no result" (e.g. an index returned fewer than K) and is never relevant.
        query_labels: ``[Q]`` or ``[Q, L]``.
        gallery_labels: ``[G]`` or ``[G, L]``.
        ks: cut-offs, each at most K.
        relevant_counts: ``[Q]`` relevant gallery items per query (only used for
            ``queries_without_relevant``); computed from the labels when None.
    """
    ks = check_ks(ks)
    ids = np.asarray(ranked_ids.cpu() if isinstance(ranked_ids, torch.Tensor) else ranked_ids)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise DataError(f"ranked_ids must be a 2-D integer array [Q, K], got {ids.shape}.")
    if ks[-1] > ids.shape[1]:
        raise ConfigError(f"k={ks[-1]} is larger than the {ids.shape[1]} ranked results per query.")
    n_gallery = len(gallery_labels)
    if ids.size and (ids.max() >= n_gallery or ids.min() < -1):
        raise DataError(f"ranked_ids must lie in [-1, {n_gallery}) (gallery rows, -1 = none).")
    q_labels, g_labels = prepare_labels(query_labels, gallery_labels, len(ids), n_gallery)
    if relevant_counts is None:
        relevant_counts = count_relevant(q_labels, g_labels)
    counts = np.asarray(relevant_counts)
    rel = torch.from_numpy(relevance(ids, q_labels, g_labels)).to(torch.float64)
    found = rel.cumsum(1)  # relevant items within the top r
    ranks = torch.arange(1, ids.shape[1] + 1, dtype=torch.float64)
    precision_sum = (found / ranks * rel).cumsum(1)  # sum_{r'<=r} P(r') rel(r')
    out: dict[str, float] = {}
    for name in ("hit", "precision", "map"):
        for k in ks:
            m = found[:, k - 1]
            if name == "hit":
                value = (m > 0).to(torch.float64)
            elif name == "precision":
                value = m / k
            else:
                value = torch.where(m > 0, precision_sum[:, k - 1] / m.clamp_min(1), 0.0)
            out[f"{name}@{k}"] = float(value.mean()) if len(value) else 0.0
    out["queries_without_relevant"] = float((counts == 0).sum())
    return out


def check_ks(ks: Sequence[int]) -> list[int]:
    """Sorted, de-duplicated cut-offs; each a positive integer."""
    ks = [ks] if isinstance(ks, int) else list(ks)
    if not ks or any(not isinstance(k, (int, np.integer)) or k < 1 for k in ks):
        raise ConfigError(f"ks must be a non-empty list of positive integers, got {ks!r}.")
    return sorted({int(k) for k in ks})


def prepare_labels(
    query_labels: Any, gallery_labels: Any, n_query: int, n_gallery: int
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as int64 ``[N]`` or bool multi-hot ``[N, L]`` numpy arrays, checked for shape."""
    q, g = _to_numpy(query_labels), _to_numpy(gallery_labels)
    if q.ndim != g.ndim or q.ndim not in (1, 2):
        raise DataError(
            "query_labels and gallery_labels must both be 1-D labels or both 2-D multi-hot, "
            f"got shapes {q.shape} and {g.shape}."
        )
    if len(q) != n_query or len(g) != n_gallery:
        raise DataError(
            f"{len(q)} query labels for {n_query} queries and {len(g)} gallery labels for "
            f"{n_gallery} gallery items: give one label (row) per item."
        )
    if q.ndim == 2:
        if q.shape[1] != g.shape[1]:
            raise DataError(f"multi-hot labels have {q.shape[1]} vs {g.shape[1]} columns.")
        for name, x in (("query_labels", q), ("gallery_labels", g)):
            if not np.isin(x, (0, 1)).all():
                raise DataError(f"{name}: multi-hot labels must be 0/1 (drop missing-label rows).")
        return q.astype(bool), g.astype(bool)
    if q.dtype.kind in "iub" and g.dtype.kind in "iub":
        return q.astype(np.int64), g.astype(np.int64)
    if q.dtype.kind == "f" or g.dtype.kind == "f":
        if not (np.mod(q, 1) == 0).all() or not (np.mod(g, 1) == 0).all():
            raise DataError("1-D labels must be integers (or strings), got fractional values.")
        return q.astype(np.int64), g.astype(np.int64)
    # Strings/objects: one shared integer code per distinct label.
    _, codes = np.unique(np.concatenate([q.astype(str), g.astype(str)]), return_inverse=True)
    return codes[: len(q)].astype(np.int64), codes[len(q) :].astype(np.int64)


def count_relevant(
    query_labels: np.ndarray, gallery_labels: np.ndarray, exclude_self: bool = False
) -> np.ndarray:
    """Relevant gallery items per query (``[Q]`` int64), from labels made by prepare_labels."""
    q, g = query_labels, gallery_labels
    if q.ndim == 1:
        values, counts = np.unique(g, return_counts=True)
        pos = np.minimum(np.searchsorted(values, q), len(values) - 1)
        total = np.where(values[pos] == q, counts[pos], 0).astype(np.int64)
        return total - (q == g).astype(np.int64) if exclude_self else total
    g_t = torch.from_numpy(g).to(torch.float32).T
    chunk = max(1, CHUNK_ELEMENTS // max(len(g), 1))
    total = np.empty(len(q), dtype=np.int64)
    for start in range(0, len(q), chunk):
        shared = torch.from_numpy(q[start : start + chunk]).to(torch.float32) @ g_t
        total[start : start + chunk] = (shared > 0).sum(1).numpy()
    if exclude_self:
        total -= (q & g).any(1).astype(np.int64)
    return total


def relevance(ids: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray) -> np.ndarray:
    """Boolean ``[Q, K]``: is the gallery item at each ranked position relevant to the query."""
    valid = ids >= 0
    safe = np.where(valid, ids, 0)
    if query_labels.ndim == 1:
        return valid & (gallery_labels[safe] == query_labels[:, None])
    out = np.empty(ids.shape, dtype=bool)
    chunk = max(1, CHUNK_ELEMENTS // max(ids.shape[1] * query_labels.shape[1], 1))
    for start in range(0, len(ids), chunk):
        stop = start + chunk
        shared = gallery_labels[safe[start:stop]] & query_labels[start:stop, None, :]
        out[start:stop] = valid[start:stop] & shared.any(2)
    return out


def _to_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
