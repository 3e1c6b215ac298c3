"""IVFIndex: exhaustive probing equals exact search; training needs nlist vectors."""

from __future__ import annotations

import numpy as np
import pytest

from clothret.errors import ConfigError, DataError
from clothret.retrieval.index import ExactIndex, IVFIndex


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nprobe_nlist_equals_exact(metric: str) -> None:
    rng = np.random.default_rng(0)
    gallery, query = rng.normal(size=(1200, 16)), rng.normal(size=(30, 16))
    ivf, exact = IVFIndex(nlist=24, nprobe=24, metric=metric), ExactIndex(metric=metric)
    for index in (ivf, exact):
        index.add(features=gallery)
    ivf_dist, ivf_ids = ivf.search(features=query, k=20)
    exact_dist, exact_ids = exact.search(features=query, k=20)
    assert (ivf_ids == exact_ids).all()
    np.testing.assert_allclose(ivf_dist, exact_dist, atol=1e-5)


def test_fewer_probes_scan_fewer_cells() -> None:
    rng = np.random.default_rng(1)
    gallery = rng.normal(size=(2000, 8))
    index = IVFIndex(nlist=50, nprobe=1, metric="euclidean")
    index.add(features=gallery)
    _, ids = index.search(features=gallery[:20], k=5)
    assert (ids[:, 0] == np.arange(20)).all()  # each point lies in its own probed cell


def test_training_needs_nlist_vectors() -> None:
    with pytest.raises(DataError, match="at least nlist vectors"):
        IVFIndex(nlist=64).add(features=np.zeros((10, 4)))
    with pytest.raises(ConfigError, match="positive"):
        IVFIndex(nlist=0)
