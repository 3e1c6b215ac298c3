"""HierarchicalIndex: Hamming pool (top-C or radius) + exact float re-rank, against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from clothret.errors import ConfigError, DataError
from clothret.retrieval.index import HierarchicalIndex

from ..reference import brute_force_distances, brute_force_ranking


def data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    gallery, query = rng.normal(size=(200, 10)), rng.normal(size=(20, 10))
    projection = rng.normal(size=(10, 12))
    return gallery, query, gallery @ projection > 0, query @ projection > 0


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_full_pool_equals_brute_force(metric: str) -> None:
    gallery, query, g_codes, q_codes = data()
    index = HierarchicalIndex(candidates=len(gallery), metric=metric)
    index.add(features=gallery, codes=g_codes)
    dist, ids = index.search(features=query, codes=q_codes, k=10)
    assert ids.tolist() == [row[:10] for row in brute_force_ranking(query, gallery, metric)]
    if metric == "euclidean":
        reference = brute_force_distances(query, gallery, metric)
        np.testing.assert_allclose(dist, np.take_along_axis(reference, ids, 1), atol=1e-4)


@pytest.mark.parametrize(("candidates", "radius"), [(30, None), (None, 4), (25, 5), (500, 0)])
def test_pool_then_rerank_matches_definition(candidates: int | None, radius: int | None) -> None:
    gallery, query, g_codes, q_codes = data(1)
    index = HierarchicalIndex(candidates=candidates, hamming_radius=radius)
    index.add(features=gallery, codes=g_codes)
    _, ids = index.search(features=query, codes=q_codes, k=8)
    hamming = brute_force_distances(q_codes, g_codes, "hamming")
    euclid = brute_force_distances(query, gallery, "euclidean")
    for row in range(len(query)):
        order = sorted(range(len(gallery)), key=lambda j, r=row: (hamming[r, j], j))
        pool = [j for j in order if radius is None or hamming[row, j] <= radius]
        if candidates is not None:
            cut = min(candidates, len(pool))
            boundary = hamming[row, pool[cut - 1]] if cut else -1
            # Items tied at the cut may enter in any order; anything closer must be in.
            inside = [j for j in pool if hamming[row, j] < boundary]
            got = set(index.candidate_pool(np.packbits(q_codes[row : row + 1], 1))[0])
            assert set(inside) <= got and len(got - {-1}) == cut
            pool = sorted(got - {-1})
        expected = sorted(pool, key=lambda j, r=row: (euclid[r, j], j))[:8]
        assert ids[row, : len(expected)].tolist() == expected
        assert (ids[row, len(expected) :] == -1).all()


def test_requires_both_inputs_and_valid_params() -> None:
    index = HierarchicalIndex(candidates=5)
    with pytest.raises(DataError, match="needs codes"):
        index.add(features=np.zeros((3, 2)))
    with pytest.raises(DataError, match="needs features"):
        index.add(codes=np.zeros((3, 8)))
    with pytest.raises(DataError, match="3 feature rows but 2 code rows"):
        index.add(features=np.zeros((3, 2)), codes=np.zeros((2, 8)))
    with pytest.raises(ConfigError, match="candidates, hamming_radius or both"):
        HierarchicalIndex(candidates=None)
    with pytest.raises(ConfigError, match="positive"):
        HierarchicalIndex(candidates=0)
