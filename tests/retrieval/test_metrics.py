"""retrieval_metrics / ranking_metrics against brute-force loops over a full sort per query."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from clothret.errors import DataError
from clothret.retrieval import ranking
from clothret.retrieval.metrics import ranking_metrics, retrieval_metrics

from .reference import brute_force_metrics, brute_force_ranking
from .test_ranking import tied_features


@st.composite
def problems(draw: st.DrawFn) -> dict:
    metric = draw(st.sampled_from(["cosine", "euclidean", "hamming"]))
    exclude_self = draw(st.booleans())
    n_query = draw(st.integers(2 if exclude_self else 1, 18))
    n_gallery = n_query if exclude_self else draw(st.integers(1, 22))
    d = draw(st.integers(4, 6)) if metric == "cosine" else draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    query = tied_features(rng, n_query, d, metric)
    gallery = query if exclude_self else tied_features(rng, n_gallery, d, metric)
    if draw(st.booleans()):  # 1-D labels; more classes than items leaves queries without relevant
        n_classes = draw(st.integers(1, 8))
        q_labels = rng.integers(0, n_classes, n_query)
        g_labels = q_labels if exclude_self else rng.integers(0, n_classes, n_gallery)
    else:  # multi-hot; all-zero rows are never relevant
        n_labels = draw(st.integers(1, 4))
        q_labels = rng.random((n_query, n_labels)) < 0.3
        g_labels = q_labels if exclude_self else rng.random((n_gallery, n_labels)) < 0.3
    limit = n_gallery - int(exclude_self)
    ks = draw(st.lists(st.integers(1, limit), min_size=1, max_size=4))
    chunk = draw(st.one_of(st.none(), st.integers(1, n_query)))
    return dict(
        query=query,
        gallery=gallery,
        q_labels=q_labels,
        g_labels=g_labels,
        ks=ks,
        metric=metric,
        exclude_self=exclude_self,
        chunk=chunk,
    )


def expected_metrics(p: dict) -> dict[str, float]:
    ranking = brute_force_ranking(p["query"], p["gallery"], p["metric"], p["exclude_self"])
    out = brute_force_metrics(ranking, p["q_labels"], p["g_labels"], sorted(set(p["ks"])))
    out["queries_without_relevant"] = float(
        sum(
            not any(
                np.any(np.logical_and(p["q_labels"][i], p["g_labels"][j]))
                if p["q_labels"].ndim == 2
                else p["q_labels"][i] == p["g_labels"][j]
                for j in range(len(p["gallery"]))
                if not (p["exclude_self"] and i == j)
            )
            for i in range(len(p["query"]))
        )
    )
    return out


@settings(max_examples=300, deadline=None)
@given(problems(), st.booleans())
def test_matches_brute_force(p: dict, as_torch: bool) -> None:
    convert = torch.from_numpy if as_torch else np.asarray
    got = retrieval_metrics(
        convert(p["query"]),
        convert(p["q_labels"]),
        convert(p["gallery"]),
        convert(p["g_labels"]),
        ks=p["ks"],
        metric=p["metric"],
        exclude_self=p["exclude_self"],
        chunk_size=p["chunk"],
    )
    expected = expected_metrics(p)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_ranking_metrics_handles_missing_results() -> None:
    # Query 0: relevant at ranks 1 and 3; query 1: nothing returned after rank 1.
    ranked = np.array([[0, 1, 2], [3, -1, -1]])
    q_labels, g_labels = np.array([7, 9]), np.array([7, 8, 7, 5])
    got = ranking_metrics(ranked, q_labels, g_labels, ks=[1, 3])
    assert got["hit@1"] == 0.5 and got["hit@3"] == 0.5
    assert got["precision@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert got["map@3"] == pytest.approx(((1 + 2 / 3) / 2 + 0) / 2)
    assert got["queries_without_relevant"] == 1.0


def test_relevant_counts_override_only_changes_the_count() -> None:
    ranked, labels = np.array([[0, 1]]), np.array([1])
    base = ranking_metrics(ranked, labels, np.array([1, 2]), ks=[2])
    given_counts = ranking_metrics(ranked, labels, np.array([1, 2]), ks=[2], relevant_counts=[0])
    assert given_counts["queries_without_relevant"] == 1.0
    assert base["queries_without_relevant"] == 0.0
    assert {k: v for k, v in base.items() if "@" in k} == {
        k: v for k, v in given_counts.items() if "@" in k
    }


def test_string_labels_match_integer_labels() -> None:
    rng = np.random.default_rng(0)
    q, g = rng.normal(size=(20, 4)), rng.normal(size=(30, 4))
    q_int, g_int = rng.integers(0, 4, 20), rng.integers(0, 4, 30)
    names = np.array(["shirt", "dress", "coat", "skirt"])
    assert retrieval_metrics(q, names[q_int], g, names[g_int], ks=[1, 5]) == retrieval_metrics(
        q, q_int, g, g_int, ks=[1, 5]
    )


def test_errors_name_k_and_gallery_size() -> None:
    x, labels = np.zeros((5, 2)), np.zeros(5, dtype=int)
    with pytest.raises(ValueError, match=r"k=6 is larger than the gallery size 5"):
        retrieval_metrics(x, labels, x, labels, ks=[1, 6])
    with pytest.raises(ValueError, match=r"k=5 is larger than the gallery size 5 minus 1"):
        retrieval_metrics(x, labels, x, labels, ks=[5], exclude_self=True)
    with pytest.raises(ValueError, match="positive integers"):
        retrieval_metrics(x, labels, x, labels, ks=[0])
    with pytest.raises(DataError, match="one label"):
        retrieval_metrics(x, labels[:4], x, labels, ks=[1])
    with pytest.raises(DataError, match="both be 1-D labels or both 2-D"):
        retrieval_metrics(x, labels, x, np.zeros((5, 2)), ks=[1])
    with pytest.raises(DataError, match="0/1"):
        retrieval_metrics(x, np.full((5, 2), -1), x, np.zeros((5, 2)), ks=[1])
    with pytest.raises(ValueError, match="3 ranked results"):
        ranking_metrics(np.zeros((5, 3), dtype=int), labels, labels, ks=[4])


@pytest.mark.parametrize(
    ("metric", "spied", "size"),
    [
        ("hamming", "_unique_topk", 100 * 4000),  # scores [chunk, G] materialised per chunk
        ("cosine", "_order_ties", 100 * 10),  # faiss search per chunk: [chunk, k] results
    ],
)
def test_work_is_done_per_chunk(
    metric: str, spied: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 4000 x 4000 problem ranked in chunks of 100 never holds more than a chunk at once."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 8)).astype(np.float32)
    x = x > 0 if metric == "hamming" else x
    labels = rng.integers(0, 50, 4000)
    sizes = []
    original = getattr(ranking, spied)

    def spy(values: torch.Tensor, *args: object) -> torch.Tensor:
        sizes.append(values.numel())
        return original(values, *args)

    monkeypatch.setattr(ranking, spied, spy)
    retrieval_metrics(
        x, labels, x, labels, ks=[1, 10], metric=metric, exclude_self=True, chunk_size=100
    )
    assert max(sizes) == size and len(sizes) == 40
