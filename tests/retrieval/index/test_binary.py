"""BinaryIndex against brute-force Hamming distances (ties included)."""

from __future__ import annotations

import numpy as np
import pytest

from clothret.errors import DataError
from clothret.retrieval.index import BinaryIndex

from ..reference import brute_force_distances


@pytest.mark.parametrize("bits", [5, 16, 70])
@pytest.mark.parametrize("k", [1, 10, 100])
def test_equals_brute_force_hamming(bits: int, k: int) -> None:
    rng = np.random.default_rng(bits)
    gallery = rng.integers(0, 2, (150, bits)).astype(bool)
    query = rng.integers(0, 2, (12, bits)).astype(np.uint8)
    index = BinaryIndex()
    index.add(codes=gallery)
    dist, ids = index.search(codes=query, k=k)
    reference = brute_force_distances(query, gallery, "hamming")
    for row in range(len(query)):
        # The k smallest distances, each reported id at its true distance, no id twice;
        # equal distances come in ascending id order.
        np.testing.assert_array_equal(dist[row], np.sort(reference[row])[:k])
        np.testing.assert_array_equal(reference[row, ids[row]], dist[row])
        assert len(set(ids[row].tolist())) == k
        order = np.lexsort((ids[row], dist[row]))
        assert (order == np.arange(k)).all()


def test_codes_are_checked() -> None:
    index = BinaryIndex()
    with pytest.raises(DataError, match="needs codes"):
        index.add(features=np.zeros((2, 4)))
    with pytest.raises(DataError, match="0/1 bits"):
        index.add(codes=np.full((2, 8), 3))
    index.add(codes=np.zeros((2, 8)))
    with pytest.raises(DataError, match="9 bits, the index has 8"):
        index.search(codes=np.zeros((1, 9)))  # 9 bits against 8
