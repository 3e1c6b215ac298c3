"""The ``synthetic`` datamodule: generated once into the cache, then read like any manifest."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from clothret.datamodules.synthetic import COMPLETE_MARKER, default_root
from clothret.keys import IMAGE, IS_QUERY, ITEM_ID
from clothret.registry import build

from .conftest import tiny_rows, write_manifest


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """A stand-in ``clothret.sample_data`` recording its calls."""
    calls: list[dict] = []

    def generate_sample_data(out_dir, seed=0, **options) -> Path:
        calls.append({"out_dir": Path(out_dir), "seed": seed, **options})
        return write_manifest(Path(out_dir), tiny_rows())

    module = types.ModuleType("clothret.sample_data")
    module.generate_sample_data = generate_sample_data
    monkeypatch.setitem(sys.modules, "clothret.sample_data", module)
    return calls


def test_generates_into_the_cache_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generator: list[dict]
) -> None:
    monkeypatch.setenv("CLOTHRET_CACHE", str(tmp_path / "cache"))
    node = {"name": "synthetic", "seed": 3, "num_items": 7, "num_workers": 0, "batch_size": 4}
    dm = build("datamodule", node)
    expected_root = tmp_path / "cache" / "sample-data" / "seed3-n7"
    assert dm.root == expected_root == default_root(3, 7, None)
    dm.prepare_data()
    dm.setup()
    assert generator == [{"out_dir": expected_root, "seed": 3, "num_items": 7}]
    assert (expected_root / COMPLETE_MARKER).is_file() and len(dm.frame) == len(tiny_rows())
    build("datamodule", node).setup()
    assert len(generator) == 1  # cached


def test_incomplete_cache_is_regenerated(tmp_path: Path, generator: list[dict]) -> None:
    root = tmp_path / "data"
    write_manifest(root, tiny_rows())  # a manifest without the completion marker
    build("datamodule", {"name": "synthetic", "root": str(root), "image_size": 64}).setup()
    assert generator == [{"out_dir": root, "seed": 0, "image_size": 64}]


def test_with_the_package_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOTHRET_CACHE", str(tmp_path))
    node = {
        "name": "synthetic",
        "num_items": 16,
        "image_size": 32,
        "num_workers": 0,
        "batch_size": 8,
        "sampler": {"name": "pk", "k": 2},
    }
    dm = build("datamodule", node, data_config={"input_size": 32})
    dm.prepare_data()
    manifest = pd.read_csv(dm.root / "manifest.csv", keep_default_na=False)
    batch = next(iter(dm.train_dataloader()))
    assert batch[IMAGE].shape == (8, 3, 32, 32) and len(set(batch[ITEM_ID].tolist())) == 4
    assert (
        dm.runtime_info()["num_categories"]
        == manifest.loc[manifest["split"] == "train", "category"].nunique()
    )
    assert next(iter(dm.test_dataloader()))[IS_QUERY].any()
