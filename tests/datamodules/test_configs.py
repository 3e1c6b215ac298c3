"""Every YAML of the datamodules and samplers defined here builds (no data is read)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from clothret.datamodules.base import ManifestDataModule
from clothret.datamodules.samplers.base import EpochSampler
from clothret.registry import available, build

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DATAMODULES = ("manifest", "image_folder", "synthetic")


@pytest.mark.parametrize("name", DATAMODULES)
def test_datamodule_yaml_builds(name: str) -> None:
    node = OmegaConf.load(CONFIGS / "datamodule" / f"{name}.yaml")
    assert node.name == name
    dm = build("datamodule", node, data_config={"input_size": 32}, run_dir=None)
    assert isinstance(dm, ManifestDataModule)


@pytest.mark.parametrize("name", available("sampler"))
def test_sampler_yaml_builds(name: str) -> None:
    node = OmegaConf.load(CONFIGS / "sampler" / f"{name}.yaml")
    items = np.repeat(np.arange(16), 4)
    runtime = {
        "item_ids": items,
        "categories": items % 4,
        "domains": np.arange(len(items)) % 2,
        "num_samples": len(items),
        "batch_size": 8,
        "seed": 0,
    }
    assert isinstance(build("sampler", node, **runtime), EpochSampler)
