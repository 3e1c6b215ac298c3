"""ExactIndex against a brute-force float64 sort; ids, padding and input errors of the base API."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clothret.errors import ConfigError, DataError
from clothret.retrieval.index import ExactIndex

from ..reference import brute_force_distances, brute_force_ranking


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_equals_brute_force(metric: str) -> None:
    rng = np.random.default_rng(0)
    gallery, query = rng.normal(size=(300, 12)), rng.normal(size=(25, 12))
    index = ExactIndex(metric=metric)
    index.add(features=torch.from_numpy(gallery[:100]))  # torch and numpy, two adds
    index.add(features=gallery[100:])
    dist, ids = index.search(features=query, k=15)
    expected = [row[:15] for row in brute_force_ranking(query, gallery, metric)]
    assert ids.tolist() == expected
    reference = brute_force_distances(query, gallery, metric)
    reference = 1 + reference if metric == "cosine" else reference  # -cos -> 1 - cos
    np.testing.assert_allclose(dist, np.take_along_axis(reference, ids, 1), atol=1e-5)
    assert dist.dtype == np.float32 and ids.dtype == np.int64


def test_custom_ids_and_padding_beyond_the_index() -> None:
    gallery = np.eye(4, dtype=np.float32)
    index = ExactIndex(metric="euclidean")
    index.add(features=gallery, ids=[40, 41, 42, 43])
    dist, ids = index.search(features=gallery[2:3], k=6)
    assert ids[0, 0] == 42 and dist[0, 0] == 0
    assert sorted(ids[0, :4].tolist()) == [40, 41, 42, 43]
    assert ids[0, 4:].tolist() == [-1, -1] and np.isinf(dist[0, 4:]).all()
    assert len(index) == 4


def test_input_errors_are_clear() -> None:
    index = ExactIndex()
    with pytest.raises(DataError, match="empty"):
        index.search(features=np.zeros((1, 3)), k=1)
    with pytest.raises(DataError, match="needs features"):
        index.add(codes=np.zeros((2, 8)))
    index.add(features=np.ones((2, 3)))
    with pytest.raises(DataError, match="4 dimensions, the index has 3"):
        index.search(features=np.zeros((1, 4)))
    with pytest.raises(ConfigError, match="positive integer"):
        index.search(features=np.zeros((1, 3)), k=0)
    with pytest.raises(DataError, match="ids must be 2"):
        index.add(features=np.ones((2, 3)), ids=[1, -1])
    with pytest.raises(DataError, match="finite"):
        index.add(features=np.full((1, 3), np.nan))
    with pytest.raises(ConfigError, match="metric"):
        ExactIndex(metric="hamming")
