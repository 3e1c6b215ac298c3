"""rank_gallery: exact top-k with the lower-index tie rule, against a full sort per query."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from clothret.errors import DataError
from clothret.retrieval import ranking
from clothret.retrieval.ranking import rank_gallery

from .reference import brute_force_ranking


def tied_features(rng: np.random.Generator, n: int, d: int, metric: str) -> np.ndarray:
    """Features whose distances are exact in float32 and tie often.

    Cosine: rows of {-1, 0, 1} with exactly 4 non-zeros, scaled by a power of two, so the
    normalised entries are exactly ±0.5 or 0. Euclidean: small integers. Hamming: few bits.
    """
    if metric == "hamming":
        return rng.integers(0, 2, (n, d)).astype(bool)
    if metric == "euclidean":
        return rng.integers(-2, 3, (n, d)).astype(np.float32)
    x = np.zeros((n, d), dtype=np.float32)
    for row in x:
        row[rng.choice(d, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
    return x * (2.0 ** rng.integers(-3, 4, (n, 1))).astype(np.float32)


@st.composite
def problems(draw: st.DrawFn) -> dict:
    metric = draw(st.sampled_from(["cosine", "euclidean", "hamming"]))
    exclude_self = draw(st.booleans())
    n_query = draw(st.integers(2 if exclude_self else 1, 20))
    n_gallery = n_query if exclude_self else draw(st.integers(1, 25))
    d = draw(st.integers(4, 7)) if metric == "cosine" else draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    query = tied_features(rng, n_query, d, metric)
    gallery = query if exclude_self else tied_features(rng, n_gallery, d, metric)
    k = draw(st.integers(1, n_gallery - int(exclude_self)))
    chunk = draw(st.one_of(st.none(), st.integers(1, n_query)))
    return dict(
        query=query, gallery=gallery, k=k, metric=metric, exclude_self=exclude_self, chunk=chunk
    )


@settings(max_examples=300, deadline=None)
@given(problems(), st.booleans())
def test_matches_full_sort_with_tie_rule(p: dict, as_torch: bool) -> None:
    expected = brute_force_ranking(p["query"], p["gallery"], p["metric"], p["exclude_self"])
    convert = torch.from_numpy if as_torch else np.asarray
    got = rank_gallery(
        convert(p["query"]),
        convert(p["gallery"]),
        p["k"],
        metric=p["metric"],
        exclude_self=p["exclude_self"],
        chunk_size=p["chunk"],
    )
    assert got.tolist() == [row[: p["k"]] for row in expected]


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "hamming"])
def test_all_equal_gallery_ranks_by_index(metric: str) -> None:
    gallery = np.ones((30, 8), dtype=np.float32)
    query = np.ones((3, 8), dtype=np.float32)
    got = rank_gallery(query, gallery, 10, metric=metric, chunk_size=2)
    assert got.tolist() == [list(range(10))] * 3


def test_hamming_float64_keys_when_float32_is_not_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    query, gallery = rng.integers(0, 2, (6, 5)), rng.integers(0, 2, (40, 5))
    expected = [row[:12] for row in brute_force_ranking(query, gallery, "hamming")]
    monkeypatch.setattr(ranking, "FLOAT32_EXACT", 8)
    assert rank_gallery(query, gallery, 12, metric="hamming").tolist() == expected


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_random_features_match_float64_sort(metric: str) -> None:
    rng = np.random.default_rng(1)
    query, gallery = rng.normal(size=(40, 16)), rng.normal(size=(300, 16))
    expected = [row[:20] for row in brute_force_ranking(query, gallery, metric)]
    assert rank_gallery(query, gallery, 20, metric=metric).tolist() == expected


def test_errors_name_the_problem() -> None:
    x = np.zeros((4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"k=4 .* gallery size 4 minus 1"):
        rank_gallery(x, x, 4, exclude_self=True)
    with pytest.raises(DataError, match="same set"):
        rank_gallery(x[:2], x, 1, exclude_self=True)
    with pytest.raises(DataError, match="NaN"):
        rank_gallery(np.full((1, 3), np.nan), x, 1)
    with pytest.raises(DataError, match="only 0 and 1"):
        rank_gallery(np.full((1, 3), 2), x, 1, metric="hamming")
    with pytest.raises(DataError, match="dimensions"):
        rank_gallery(np.zeros((1, 2)), x, 1)
    with pytest.raises(ValueError, match="Unknown metric"):
        rank_gallery(x, x, 1, metric="manhattan")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu() -> None:
    rng = np.random.default_rng(2)
    query = torch.from_numpy(rng.integers(-2, 3, (50, 6)).astype(np.float32))
    gallery = torch.from_numpy(rng.integers(-2, 3, (200, 6)).astype(np.float32))
    for metric in ("cosine", "euclidean"):
        cpu = rank_gallery(query, gallery, 30, metric=metric)
        gpu = rank_gallery(query.cuda(), gallery.cuda(), 30, metric=metric)
        assert (cpu == gpu).all()


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_near_ties_are_ordered_by_their_float64_scores(metric: str) -> None:
    """Nearly collapsed features (as early in training) give float32 scores that differ in the
    last bits; the returned items must still be in float64 order (ties: lower index)."""
    from .reference import brute_force_distances

    rng = np.random.default_rng(3)
    base = rng.normal(size=(1, 32))
    gallery = (base + 1e-2 * rng.normal(size=(300, 32))).astype(np.float32)
    query = (base + 1e-2 * rng.normal(size=(40, 32))).astype(np.float32)
    ranked = rank_gallery(query, gallery, 10, metric=metric)
    distances = brute_force_distances(query, gallery, metric)
    for row, ids in zip(distances, ranked, strict=True):
        keys = [(row[i], i) for i in ids]
        assert keys == sorted(keys)
