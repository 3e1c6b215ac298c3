"""Every head builds from its default YAML with the runtime values, and reads what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.heads import Head, head_input
from clothret.registry import available, build

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "head"
RUNTIME = {"num_categories": 6, "attribute_dims": {"color": 4, "pattern": 3}}
FEATURE_DIM, LEVEL_DIMS = 32, [8, 16, 16]


def test_registered_names_and_yamls_match():
    yamls = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    assert yamls == available("head")
    expected = {"embedding", "latent_hash", "tanh_hash", "fusion", "classifier", "multitask"}
    assert expected <= set(yamls)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_yaml_builds_and_runs(path):
    node = OmegaConf.load(path)
    assert node.name == path.stem
    reads = head_input(node)
    in_dim = LEVEL_DIMS if reads == keys.FEATURE_MAPS else FEATURE_DIM
    head = build("head", node, at="module.heads.x", in_dim=in_dim, **RUNTIME)
    assert isinstance(head, Head) and head.input == reads
    if reads == keys.FEATURE_MAPS:
        x = [torch.randn(2, c, 3, 3) for c in LEVEL_DIMS]
    else:
        x = torch.randn(2, FEATURE_DIM)
    out = head.eval()(x)
    if isinstance(out, dict):
        assert sum(v.shape[1] for v in out.values()) == head.out_dim
        assert {k: v.shape[1] for k, v in out.items()} == RUNTIME["attribute_dims"]
    else:
        assert out.shape == (2, head.out_dim)


def test_head_input_follows_node_then_class():
    assert head_input({"name": "fusion"}) == keys.FEATURE_MAPS
    assert head_input({"name": "latent_hash"}) == keys.FEATURES
    assert head_input({"name": "latent_hash", "input": keys.EMBEDDING}) == keys.EMBEDDING
