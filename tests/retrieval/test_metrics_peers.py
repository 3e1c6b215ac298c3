"""retrieval_metrics against torchmetrics and pytorch-metric-learning where definitions coincide.

* torchmetrics ``RetrievalHitRate`` / ``RetrievalPrecision`` / ``RetrievalMAP`` (``top_k=k``) on the
  flat Q x G inputs use the same definitions (AP@k normalised by the relevant items retrieved in
  the top k; queries without relevant items score 0 with ``empty_target_action="neg"``). Two
  differences are adapted explicitly: torchmetrics orders equal scores arbitrarily, so its
  ``preds`` encode the tie rule as ``level * G - index`` (exact integers in float32); and its
  precision and MAP treat items with ``preds <= 0`` as irrelevant, so every pred is positive.
* pytorch-metric-learning's ``AccuracyCalculator`` averages only over queries with at least one
  relevant item and normalises AP by *all* relevant items of the query (not those in the top k),
  so ``precision_at_1`` is compared after rescaling by the number of such queries, and
  ``mean_average_precision`` only with k = whole gallery, where both normalisations agree. It
  supports 1-D labels only; its neighbours come from faiss, so features are continuous (no ties).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from torchmetrics.retrieval import RetrievalHitRate, RetrievalMAP, RetrievalPrecision

from clothret.retrieval.metrics import retrieval_metrics

from .reference import brute_force_distances
from .test_ranking import tied_features


def torchmetrics_values(dist: np.ndarray, relevant: np.ndarray, ks: list[int]) -> dict:
    n_query, n_gallery = dist.shape
    levels = np.unique(dist, return_inverse=True)[1].reshape(dist.shape)  # 0 = closest
    preds = (levels.max() - levels + 1) * n_gallery - np.arange(n_gallery)  # > 0, unique
    assert preds.max() < 2**24  # exact in float32, as torchmetrics casts preds
    flat = dict(
        preds=torch.from_numpy(preds.astype(np.float32)).flatten(),
        target=torch.from_numpy(relevant).flatten(),
        indexes=torch.arange(n_query).repeat_interleave(n_gallery),
    )
    out = {}
    for k in ks:
        for name, cls in (("hit", RetrievalHitRate), ("precision", RetrievalPrecision)):
            out[f"{name}@{k}"] = float(cls(top_k=k)(**flat))
        out[f"map@{k}"] = float(RetrievalMAP(top_k=k)(**flat))
    return out


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "hamming"])
@pytest.mark.parametrize("multi_hot", [False, True])
def test_matches_torchmetrics(metric: str, multi_hot: bool) -> None:
    rng = np.random.default_rng(0)
    d = 6 if metric == "cosine" else 4
    query, gallery = tied_features(rng, 40, d, metric), tied_features(rng, 60, d, metric)
    if multi_hot:
        q_labels, g_labels = rng.random((40, 3)) < 0.3, rng.random((60, 3)) < 0.3
        relevant = (q_labels.astype(int) @ g_labels.T.astype(int)) > 0
    else:
        q_labels, g_labels = rng.integers(0, 20, 40), rng.integers(0, 14, 60)
        relevant = q_labels[:, None] == g_labels[None, :]
    ks = [1, 3, 10, 60]
    got = retrieval_metrics(query, q_labels, gallery, g_labels, ks=ks, metric=metric)
    expected = torchmetrics_values(brute_force_distances(query, gallery, metric), relevant, ks)
    assert got["queries_without_relevant"] == (~relevant.any(1)).sum() > 0
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key


@pytest.mark.parametrize("exclude_self", [False, True])
def test_matches_pytorch_metric_learning(exclude_self: bool) -> None:
    rng = np.random.default_rng(1)
    query = rng.normal(size=(80, 16)).astype(np.float32)
    q_labels = rng.integers(0, 40, 80)
    if exclude_self:
        gallery, g_labels = query, q_labels
    else:
        gallery, g_labels = rng.normal(size=(120, 16)).astype(np.float32), rng.integers(0, 25, 120)
    n_results = len(gallery) - int(exclude_self)
    calc = AccuracyCalculator(
        include=("precision_at_1", "mean_average_precision"), k=None, device=torch.device("cpu")
    )
    pml = calc.get_accuracy(
        query,
        q_labels,
        None if exclude_self else gallery,
        None if exclude_self else g_labels,
    )
    got = retrieval_metrics(
        query,
        q_labels,
        gallery,
        g_labels,
        ks=[1, n_results],
        metric="euclidean",
        exclude_self=exclude_self,
    )
    with_relevant = len(query) - got["queries_without_relevant"]
    assert 0 < with_relevant < len(query)
    scale = len(query) / with_relevant
    assert got["precision@1"] * scale == pytest.approx(pml["precision_at_1"], abs=1e-6)
    assert got[f"map@{n_results}"] * scale == pytest.approx(pml["mean_average_precision"], abs=1e-6)
