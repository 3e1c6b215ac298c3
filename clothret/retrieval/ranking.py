"""Exact top-k ranking of a gallery for each query, in chunks of queries, with a fixed tie rule.

Scores are computed so that larger is better; ties in score are broken by lower gallery index,
so the ranking is deterministic (Hamming distances tie all the time). Top-k routines leave the
order of equal values unspecified, so ties are resolved explicitly:

* Hamming: distances are small integers, so ``score * G - index`` is a unique integer key whose
  order is exactly the tie rule (exact in float32, or float64 for very large galleries); the
  scores come from one matrix product of ±1 codes and ``torch.topk`` picks the keys.
* cosine / euclidean: the top ``k + 1`` come from a faiss flat index (its blocked sgemm + heap
  beat numpy matmul + ``torch.topk`` by ~30% at In-shop scale, benchmarks/retrieval_metrics.py)
  or, for CUDA tensors, from torch. A row whose ``k``-th and ``k+1``-th scores are equal has a
  tie across the cut: it is re-scored and re-selected from the full row (rare for real
  features). Rows with equal scores inside the top k get their ids sorted within each tie.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import faiss
import numpy as np
import torch

from clothret.errors import ConfigError, DataError

METRICS = ("cosine", "euclidean", "hamming")
CHUNK_ELEMENTS = 1 << 24  # scores held per chunk: 64 MB of float32
FLOAT32_EXACT = 2**24  # integers up to here are exact in float32
# Float rows whose top-(k+1) scores come closer than NEAR_TIE_ULPS float32 rounding errors of the
# score computation are re-scored in float64 over the top k + 1 + NEAR_TIE_MARGIN candidates
# (see _rescore_near_ties).
NEAR_TIE_ULPS = 16
NEAR_TIE_MARGIN = 8


@contextlib.contextmanager
def faiss_blas(dims: int) -> Iterator[None]:
    """Let faiss's exhaustive search use sgemm from 8 queries on (its default switches only at
    ~128000 / dims queries; measured at 10^6 x 512-d on one core: 16 queries 12 -> 29 q/s,
    64 queries 13 -> 57 q/s). The knob is process-global, so it is restored afterwards."""
    previous = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = 8 * dims
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = previous


@contextlib.contextmanager
def machine_threads() -> Iterator[int]:
    """Run torch and faiss on every core the process may use, whatever they were set to.

    Under DDP each process is given a share of the cores; the metric computation runs on one
    process while the others wait, and with a fixed thread count its float32 scores (and so the
    order of near-equal items) are the same for 1 or N processes on the same machine.
    """
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, threads or 1)
    previous_torch, previous_faiss = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(previous_torch)
        faiss.omp_set_num_threads(previous_faiss)


def as_matrix(x: Any, name: str, metric: str) -> torch.Tensor:
    """A 2-D float tensor of features (or of {0,1} codes for Hamming), checked for bad values."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if t.ndim != 2:
        raise DataError(f"{name} must be a 2-D array [N, D], got shape {tuple(t.shape)}.")
    if metric == "hamming":
        if not bool(((t == 0) | (t == 1)).all()):
            raise DataError(f"{name}: Hamming codes must hold only 0 and 1 (bool or uint8 bits).")
        return t.to(torch.float32)
    t = t.to(torch.float32)
    if not bool(torch.isfinite(t).all()):
        raise DataError(f"{name} contains NaN or infinite values; check the model outputs.")
    return t


def prepare(query: Any, gallery: Any, metric: str) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """Query/gallery matrices in the form the score product needs, plus a per-item gallery bias."""
    if metric not in METRICS:
        raise ConfigError(f"Unknown metric {metric!r}; use one of {', '.join(METRICS)}.")
    q, g = as_matrix(query, "query", metric), as_matrix(gallery, "gallery", metric)
    if q.shape[1] != g.shape[1]:
        raise DataError(f"query has {q.shape[1]} dimensions but gallery has {g.shape[1]}.")
    g = g.to(q.device)
    if metric == "cosine":
        q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
        g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return q, g.contiguous(), None
    if metric == "euclidean":
        # -|q-g|²/2 = q·g - |g|²/2 - |q|²/2; the last term is constant within a row.
        return q.contiguous(), g.contiguous(), -0.5 * (g * g).sum(1)
    # Hamming on ±1 codes: q·g = bits - 2·hamming, exact small integers.
    return (2 * q - 1).contiguous(), (2 * g - 1).contiguous(), None


def _scores(q: torch.Tensor, g: torch.Tensor, buffer: torch.Tensor | None) -> torch.Tensor:
    if q.is_cuda or buffer is None:
        return q @ g.T
    out = buffer[: q.shape[0]]
    # numpy's OpenBLAS sgemm; the MKL sgemm in torch CPU wheels ran ~1.5x slower here (AMD EPYC).
    np.matmul(q.numpy(), g.numpy().T, out=out.numpy())
    return out


def rank_gallery(
    query: Any,
    gallery: Any,
    k: int,
    metric: str = "cosine",
    exclude_self: bool = False,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Indices [Q, k] of the k best gallery items per query, best first (ties: lower index).

    Args:
        query: ``[Q, D]`` features, or ``[Q, bits]`` {0,1} codes for ``metric="hamming"``.
        gallery: ``[G, D]`` features or ``[G, bits]`` codes.
        k: results per query, at most G (G - 1 with ``exclude_self``).
        metric: ``cosine`` (higher dot product of L2-normalised vectors first), ``euclidean``
            (lower L2 distance first) or ``hamming`` (lower Hamming distance first).
        exclude_self: query i and gallery i are the same item; never return i for query i.
        chunk_size: queries scored at once (memory O(chunk_size * G)); default keeps ~64 MB.
    """
    q, g, bias = prepare(query, gallery, metric)
    n_query, n_gallery = q.shape[0], g.shape[0]
    if exclude_self and n_query != n_gallery:
        raise DataError(
            f"exclude_self needs the same set as query and gallery, got {n_query} queries "
            f"and {n_gallery} gallery items."
        )
    if n_query == 0 or n_gallery == 0:
        raise DataError(
            f"Need at least one query and one gallery item, got {n_query}, {n_gallery}."
        )
    limit = n_gallery - int(exclude_self)
    if not 1 <= k <= limit:
        raise ConfigError(
            f"k={k} must be between 1 and the gallery size {n_gallery}"
            + (" minus 1 (exclude_self)" if exclude_self else "")
            + "; lower k."
        )
    if chunk_size is not None and chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size}.")
    chunk = min(chunk_size or max(1, CHUNK_ELEMENTS // n_gallery), n_query)
    if metric == "hamming" and (q.shape[1] + 1) * n_gallery >= FLOAT32_EXACT:
        # Keys (bits - 2 * hamming) * G - index must stay exact integers: use float64.
        q, g = q.double(), g.double()
    if metric != "hamming" and not q.is_cuda:
        exact = _Float64Scores(query, gallery, metric)
        return _faiss_rank(q, g, bias, k, metric, exclude_self, chunk, exact)
    buffer = None if q.is_cuda else torch.empty(chunk, n_gallery, dtype=q.dtype)
    index = torch.arange(n_gallery, device=q.device, dtype=q.dtype)
    out = np.empty((n_query, k), dtype=np.int64)
    for start in range(0, n_query, chunk):
        stop = min(start + chunk, n_query)
        scores = _chunk_scores(q[start:stop], g, bias, start, exclude_self, buffer)
        if metric == "hamming":
            scores.mul_(n_gallery).sub_(index)  # an excluded item's -inf stays -inf
        ids = _unique_topk(scores, k) if metric == "hamming" else _tied_topk(scores, k)
        out[start:stop] = ids.cpu().numpy()
    return out


def _chunk_scores(
    q: torch.Tensor,
    g: torch.Tensor,
    bias: torch.Tensor | None,
    start: int,
    exclude_self: bool,
    buffer: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scores [c, G] of queries ``start..start+c``; with exclude_self, -inf on their own item."""
    scores = _scores(q, g, buffer)
    if bias is not None:
        scores += bias
    if exclude_self:
        rows = torch.arange(q.shape[0], device=q.device)
        scores[rows, rows + start] = -torch.inf
    return scores


def _faiss_rank(
    q: torch.Tensor,
    g: torch.Tensor,
    bias: torch.Tensor | None,
    k: int,
    metric: str,
    exclude_self: bool,
    chunk: int,
    exact: _Float64Scores,
) -> np.ndarray:
    """Float ranking with faiss's exhaustive search, then the tie rule (see module docstring)."""
    index = faiss.IndexFlatIP(g.shape[1]) if metric == "cosine" else faiss.IndexFlatL2(g.shape[1])
    index.add(g.numpy())
    n_query, n_gallery = q.shape[0], g.shape[0]
    wanted = min(k + 1 + int(exclude_self) + NEAR_TIE_MARGIN, n_gallery)
    out = np.empty((n_query, k), dtype=np.int64)
    for start in range(0, n_query, chunk):
        stop = min(start + chunk, n_query)
        with faiss_blas(g.shape[1]):
            dist, ids = index.search(q[start:stop].numpy(), wanted)
        values = (dist if metric == "cosine" else -dist).astype(np.float64)  # larger = better
        if exclude_self:  # drop each query's own item, or the last result when it is absent
            keep = ids != np.arange(start, stop)[:, None]
            keep[keep.all(1), -1] = False
            values = values[keep].reshape(stop - start, -1)
            ids = ids[keep].reshape(stop - start, -1)
        _rescore_near_ties(values, ids, start, exact, k, _score_scale(q[start:stop], bias))
        cut = np.empty(0, dtype=np.int64)
        if ids.shape[1] > k:
            cut = np.flatnonzero(values[:, k] == values[:, k - 1])
        values, ids = values[:, :k], ids[:, :k]
        ranked = _order_ties(torch.from_numpy(values.copy()), torch.from_numpy(ids.copy()))
        if cut.size:
            rows = torch.from_numpy(cut)
            scores = q[start + rows].double() @ g.double().T
            if bias is not None:
                scores += bias.double()
            if exclude_self:
                scores[torch.arange(len(rows)), rows + start] = -torch.inf
            ranked[rows] = _tied_topk(scores, k)
        out[start:stop] = ranked.numpy()
    return out


class _Float64Scores:
    """Scores (larger = better) of chosen query/gallery pairs, in float64 from the raw inputs.

    Computed elementwise (no BLAS, so the same on every run and thread count) and without the
    float32 shortcuts of the main search: cosine normalises in float64, euclidean uses
    ``-|q - g|² / 2`` directly instead of the dot-product expansion that cancels badly.
    """

    def __init__(self, query: Any, gallery: Any, metric: str) -> None:
        self._raw, self.metric = (query, gallery), metric
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def _inputs(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is None:  # built on the first near-tie only
            q, g = (
                as_matrix(x, n, self.metric).double().numpy()
                for x, n in zip(self._raw, ("query", "gallery"), strict=True)
            )
            if self.metric == "cosine":
                q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
                g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
            self._arrays = (q, g)
        return self._arrays

    def __call__(self, rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Scores ``[len(rows), ids.shape[1]]`` of query ``rows[i]`` against ``ids[i]``."""
        q, g = self._inputs()
        if self.metric == "cosine":
            return (q[rows][:, None, :] * g[ids]).sum(-1)
        return -0.5 * ((q[rows][:, None, :] - g[ids]) ** 2).sum(-1)


def _score_scale(q: torch.Tensor, bias: torch.Tensor | None) -> np.ndarray:
    """Per query, the size of the terms its float32 scores are summed from (1 for cosine of unit
    vectors; |q|² + max |g|² for euclidean's expansion), which bounds their rounding error."""
    if bias is None:
        return np.ones(q.shape[0])
    return (q * q).sum(1).double().numpy() + float(-2 * bias.min())


def _rescore_near_ties(
    values: np.ndarray,
    ids: np.ndarray,
    start: int,
    exact: _Float64Scores,
    k: int,
    scale: np.ndarray,
) -> None:
    """Re-score, in place, rows whose top ``k + 1`` scores hold a near-tie, in float64.

    faiss's float32 scores are only accurate to a few units in the last place (less for
    euclidean, whose dot-product expansion cancels), and those bits change with the BLAS
    blocking, i.e. with the number of threads: near-equal gallery items would be reordered
    differently on different machines. Rows with a gap below ``NEAR_TIE_ULPS`` rounding errors
    among their top ``k + 1`` are re-scored over all returned candidates and sorted by
    (score desc, index asc).
    """
    head = values[:, : k + 1]
    gaps = head[:, :-1] - head[:, 1:]
    tolerance = NEAR_TIE_ULPS * float(np.finfo(np.float32).eps) * scale
    rows = np.flatnonzero((gaps <= tolerance[:, None]).any(1))
    for part in np.array_split(rows, max(1, rows.size // 64)) if rows.size else ():
        cand = ids[part]
        scores = exact(part + start, cand)
        order = np.lexsort((cand, -scores), axis=1)
        values[part] = np.take_along_axis(scores, order, 1)
        ids[part] = np.take_along_axis(cand, order, 1)


def _unique_topk(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Top-k of rows whose values are all distinct: topk's sorted order is already exact."""
    return torch.topk(scores, k, dim=1, sorted=True).indices


def _tied_topk(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Top-k by (score desc, index asc) for rows that may hold equal scores."""
    n_gallery = scores.shape[1]
    values, ids = torch.topk(scores, min(k + 1, n_gallery), dim=1, sorted=True)
    cut = ids.new_empty(0)
    if values.shape[1] > k:
        cut = (values[:, k] == values[:, k - 1]).nonzero().flatten()
        values, ids = values[:, :k], ids[:, :k]
        if cut.numel():
            row = scores[cut]
            threshold = values[cut, k - 1 : k]
            better = row > threshold
            tied = row == threshold
            room = k - better.sum(1, keepdim=True)
            keep = better | (tied & (tied.cumsum(1) <= room))
            ids[cut] = keep.nonzero()[:, 1].view(-1, k)  # row-major: ascending index per row
            values[cut] = row.gather(1, ids[cut])
    return _order_ties(values, ids, unsorted_rows=cut)


def _order_ties(
    values: torch.Tensor, ids: torch.Tensor, unsorted_rows: torch.Tensor | None = None
) -> torch.Tensor:
    """ids ordered by (value desc, id asc); rows not listed in ``unsorted_rows`` arrive sorted
    by value, so only those with equal values are re-sorted (sorting every row would cost more
    than the top-k itself)."""
    reorder = (values[:, 1:] == values[:, :-1]).any(1)
    if unsorted_rows is not None:
        reorder[unsorted_rows] = True
    rows = reorder.nonzero().flatten()
    if rows.numel():
        sub_ids, sub_values = ids[rows], values[rows]
        by_index = torch.argsort(sub_ids, dim=1)
        sub_ids, sub_values = sub_ids.gather(1, by_index), sub_values.gather(1, by_index)
        order = torch.argsort(sub_values, dim=1, descending=True, stable=True)
        ids = ids.clone()
        ids[rows] = sub_ids.gather(1, order)
    return ids
