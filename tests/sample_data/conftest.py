"""Small generated datasets shared by the sample-data tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clothret.sample_data import generate_sample_data

SMALL = {"num_items": 24, "shop_views": 2, "consumer_views": 2, "image_size": 48}


@pytest.fixture(scope="session")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Manifest of a small set generated in-process (seed 0)."""
    return generate_sample_data(tmp_path_factory.mktemp("seed0_w1"), seed=0, workers=1, **SMALL)


@pytest.fixture(scope="session")
def small_set_two_workers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same set as ``small_set`` generated with a two-process pool."""
    return generate_sample_data(tmp_path_factory.mktemp("seed0_w2"), seed=0, workers=2, **SMALL)


@pytest.fixture(scope="session")
def small_set_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small set with another seed."""
    return generate_sample_data(tmp_path_factory.mktemp("seed1"), seed=1, workers=1, **SMALL)


@pytest.fixture(scope="session")
def small_df(small_set: Path) -> pd.DataFrame:
    """``small_set``'s manifest as strings, empty labels kept as empty strings."""
    return pd.read_csv(small_set, keep_default_na=False, dtype=str)


@pytest.fixture(scope="session")
def small_params() -> dict:
    """Generator arguments of the shared small sets."""
    return dict(SMALL)
