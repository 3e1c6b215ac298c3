"""Shared brute-force references for the retrieval tests: full sorts written out per query."""

from __future__ import annotations

import numpy as np


def brute_force_distances(query: np.ndarray, gallery: np.ndarray, metric: str) -> np.ndarray:
    """[Q, G] float64 distances, lower = better, from the definitions (no matrix tricks)."""
    q, g = query.astype(np.float64), gallery.astype(np.float64)
    out = np.empty((len(q), len(g)))
    for i in range(len(q)):
        for j in range(len(g)):
            if metric == "hamming":
                out[i, j] = np.count_nonzero(q[i] != g[j])
            elif metric == "euclidean":
                out[i, j] = np.sqrt(((q[i] - g[j]) ** 2).sum())
            else:
                norms = np.linalg.norm(q[i]) * np.linalg.norm(g[j])
                out[i, j] = -(q[i] @ g[j]) / norms if norms > 0 else 0.0
    return out


def brute_force_ranking(
    query: np.ndarray, gallery: np.ndarray, metric: str, exclude_self: bool = False
) -> list[list[int]]:
    """Every gallery index per query, sorted by (distance, index), self dropped if asked."""
    dist = brute_force_distances(query, gallery, metric)
    ranking = []
    for i in range(len(query)):
        order = sorted(range(len(gallery)), key=lambda j, i=i: (dist[i, j], j))
        ranking.append([j for j in order if not (exclude_self and j == i)])
    return ranking


def is_relevant(query_label: np.ndarray, gallery_label: np.ndarray) -> bool:
    """Equal 1-D labels, or multi-hot rows sharing at least one label."""
    if np.ndim(query_label) == 0:
        return bool(query_label == gallery_label)
    return bool(np.any(np.logical_and(query_label, gallery_label)))


def brute_force_metrics(
    ranking: list[list[int]],
    query_labels: np.ndarray,
    gallery_labels: np.ndarray,
    ks: list[int],
) -> dict[str, float]:
    """hit@k, precision@k, map@k (AP normalised by relevant items in the top k) as loops."""
    out: dict[str, float] = {}
    n = len(ranking)
    for k in ks:
        hit = precision = ap_total = 0.0
        for i, ranked in enumerate(ranking):
            rel = [is_relevant(query_labels[i], gallery_labels[j]) for j in ranked[:k]]
            found = sum(rel)
            hit += found > 0
            precision += found / k
            if found:
                ap = 0.0
                for r in range(1, k + 1):
                    if rel[r - 1]:
                        ap += sum(rel[:r]) / r
                ap_total += ap / found
        out[f"hit@{k}"], out[f"precision@{k}"], out[f"map@{k}"] = (
            hit / n,
            precision / n,
            ap_total / n,
        )
    return out
