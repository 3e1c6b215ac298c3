"""Metric callback: merging gathered outputs, metric families, dropped ks (single process)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from clothret import keys
from clothret.callbacks.gather import merge_unique
from clothret.callbacks.retrieval_metrics import RetrievalMetrics
from clothret.retrieval.metrics import retrieval_metrics


def _eval_set(seed: int = 0, n: int = 40, dim: int = 8, bits: int = 16) -> dict:
    rng = np.random.default_rng(seed)
    feats = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(n, dim))).float())
    return {
        keys.EMBEDDING: feats,
        keys.CODES: torch.from_numpy(rng.integers(0, 2, size=(n, bits)).astype(bool)),
        keys.ITEM_ID: torch.arange(n) // 4,
        keys.CATEGORY: torch.arange(n) % 3,
        keys.IS_QUERY: torch.arange(n) % 4 == 0,
        keys.INDEX: torch.arange(n),
        keys.ATTRIBUTE_LOGITS: {"colour": torch.zeros(n, 3)},
        keys.ATTRIBUTES: {"colour": torch.eye(3)[torch.arange(n) % 3]},
    }


def test_merge_drops_padding_duplicates_and_sorts_by_index() -> None:
    rank0 = {keys.INDEX: torch.tensor([0, 2, 4]), keys.EMBEDDING: torch.tensor([[0.0], [2], [4]])}
    rank1 = {keys.INDEX: torch.tensor([1, 3, 0]), keys.EMBEDDING: torch.tensor([[1.0], [3], [0]])}
    merged = merge_unique([rank0, rank1], expected=5)
    assert merged[keys.INDEX].tolist() == [0, 1, 2, 3, 4]
    assert merged[keys.EMBEDDING].flatten().tolist() == [0, 1, 2, 3, 4]


def test_merge_rejects_missing_samples() -> None:
    part = {keys.INDEX: torch.tensor([0, 1, 3])}
    with pytest.raises(RuntimeError, match="3 distinct samples but the dataset has 4"):
        merge_unique([part], expected=4)


def test_float_and_hamming_metrics_equal_direct_computation() -> None:
    data = _eval_set()
    callback = RetrievalMetrics(ks=(1, 5), hierarchical_candidates=0, per_task=False)
    values = callback.compute(data, relevance="item")
    q = data[keys.IS_QUERY]
    labels = data[keys.ITEM_ID]
    feats, codes = data[keys.EMBEDDING], data[keys.CODES]
    expected = retrieval_metrics(feats[q], labels[q], feats[~q], labels[~q], ks=(1, 5))
    hamming = retrieval_metrics(codes[q], labels[q], codes[~q], labels[~q], ks=(1, 5),
                                metric="hamming")  # fmt: skip
    for key, value in expected.items():
        assert values[key] == pytest.approx(value)
    for key, value in hamming.items():
        assert values[f"hamming/{key}"] == pytest.approx(value)


def test_hierarchical_with_the_whole_gallery_as_pool_equals_exact_euclidean() -> None:
    data = _eval_set(seed=1)
    gallery = int((~data[keys.IS_QUERY]).sum())
    callback = RetrievalMetrics(ks=(1, 5), metric="euclidean", hierarchical_candidates=gallery,
                                per_task=False)  # fmt: skip
    values = callback.compute(data, relevance="category")
    for k in (1, 5):
        for name in ("hit", "precision", "map"):
            key = f"{name}@{k}"
            assert values[f"hierarchical/{key}"] == pytest.approx(values[key]), key


def test_per_task_map_uses_task_labels_as_relevance() -> None:
    data = _eval_set(seed=2)
    values = RetrievalMetrics(ks=(1, 3), hierarchical_candidates=0).compute(data, "item")
    q = data[keys.IS_QUERY]
    targets = data[keys.ATTRIBUTES]["colour"].bool()
    feats = data[keys.EMBEDDING]
    expected = retrieval_metrics(feats[q], targets[q], feats[~q], targets[~q], ks=(1, 3))
    assert values["colour/map@3"] == pytest.approx(expected["map@3"])


def test_ks_larger_than_the_gallery_are_dropped_with_one_warning() -> None:
    data = _eval_set(n=8)  # 2 queries, 6 gallery images
    callback = RetrievalMetrics(ks=(1, 5, 50), hierarchical_candidates=0, per_task=False)
    with pytest.warns(UserWarning, match=r"Dropping k=\[50\]"):
        values = callback.compute(data, "item")
    assert "hit@5" in values and "hit@50" not in values
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        callback.compute(data, "item")  # warned once only


def test_metrics_run_on_every_core_whatever_the_ambient_thread_count() -> None:
    """Under DDP a process gets a share of the cores; the metrics use all of them, so the float32
    scores (and the order of near-equal items) are those of a single process."""
    import os

    import faiss

    from clothret.retrieval.ranking import machine_threads

    cores = len(os.sched_getaffinity(0))
    previous = torch.get_num_threads(), faiss.omp_get_max_threads()
    try:
        torch.set_num_threads(1)
        faiss.omp_set_num_threads(1)
        with machine_threads() as used:
            assert used == cores == torch.get_num_threads() == faiss.omp_get_max_threads()
        assert torch.get_num_threads() == 1 and faiss.omp_get_max_threads() == 1
    finally:
        torch.set_num_threads(previous[0])
        faiss.omp_set_num_threads(previous[1])
