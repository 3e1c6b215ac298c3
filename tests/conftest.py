"""Shared test set-up: generated sample data in a session cache, no network, CPU only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Sample data cache and W&B files in temp dirs; W&B never reaches the network."""
    cache = tmp_path_factory.mktemp("clothret-cache")
    os.environ["CLOTHRET_CACHE"] = str(cache)
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ["WANDB_DIR"] = str(tmp_path_factory.mktemp("wandb"))
    os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default generated sample dataset (written once per test session)."""
    from clothret.sample_data import generate_sample_data

    root = tmp_path_factory.mktemp("sample-data")
    generate_sample_data(root, seed=0)
    return root


@pytest.fixture
def shared_data() -> Path:
    """The real photos in ../shared/data, or skip when this checkout has none."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real clothing photos not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_format_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small generated folders in the formats of ../shared/data (fashion-product,
    clothing-cc0, cross-domain-categories.csv), for tests that must run without it."""
    from real_formats import make_folders

    return make_folders(tmp_path_factory.mktemp("real-formats"))
