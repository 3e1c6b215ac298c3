"""Every registered name has a default YAML that builds (open-metric-learning's registry test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from clothret import config, keys, registry

RUNTIME: dict[str, dict[str, Any]] = {
    "head": {
        "num_categories": 5,
        "attribute_dims": {"colour": 3, "pattern": 4},
    },
    "loss": {"label_counts": {"colour": 10, "pattern": 3}},
    "datamodule": {"data_config": {"input_size": (3, 32, 32)}},
    "sampler": {  # 16 items x 4 images (2 shop, 2 consumer) in 4 categories
        "item_ids": [item for item in range(16) for _ in range(4)],
        "categories": [item % 4 for item in range(16) for _ in range(4)],
        "domains": [view % 2 for _ in range(16) for view in range(4)],
        "num_samples": 64,
        "batch_size": 16,
    },
}


def _cases() -> list[tuple[str, str]]:
    return [(group, name) for group in registry.GROUPS for name in registry.available(group)]


@pytest.mark.parametrize("group", registry.GROUPS)
def test_no_group_is_empty(group: str) -> None:
    assert registry.available(group), f"group {group!r} has no registered component"


@pytest.mark.parametrize(("group", "name"), _cases())
def test_every_registered_name_has_a_yaml_that_builds(
    group: str, name: str, tmp_path: Path
) -> None:
    path = config.config_root() / group / f"{name}.yaml"
    assert path.is_file(), f"missing default config {path}"
    node = OmegaConf.load(path)
    assert node.name == name
    runtime = dict(RUNTIME.get(group, {}))
    if group == "head":
        head_input = node.get("input") or registry.get("head", name).default_input
        runtime["in_dim"] = [8, 8, 16] if head_input == keys.FEATURE_MAPS else 16
    if group in ("callback", "logger"):
        runtime["run_dir"] = str(tmp_path)
    if group == "module":
        backbone = registry.build("backbone", {"name": "tiny_convnet", "levels": [1, 2]})
        runtime.update(backbone=backbone, **_module_runtime(name))
    obj = registry.build(group, node, at=group, **runtime)
    assert obj is not None


def _module_runtime(name: str) -> dict[str, Any]:
    losses = {
        "latent_hash": "cross_entropy",
        "multitask_hash": "contrastive_hash",
        "clothingnet": "quadruplet",
        "multiweight": "weighted_multilabel",
    }
    return {
        "loss": {"name": losses.get(name, "triplet")},
        "num_categories": 4,
        "attribute_dims": {"colour": 3},
        "label_counts": {"colour": 5},
    }


def test_every_yaml_file_names_a_registered_component() -> None:
    for group in registry.GROUPS:
        folder = config.config_root() / group
        for path in folder.glob("*.yaml"):
            assert path.stem in registry.available(group), f"{path} has no registered component"
