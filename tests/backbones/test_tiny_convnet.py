"""TinyConvNet: shapes, level hooks against hand-run stages, its own data config."""

from __future__ import annotations

import pytest
import torch

from clothret import keys
from clothret.backbones import TinyConvNet
from clothret.errors import ConfigError
from clothret.registry import build


def test_features_are_pooled_last_stage():
    net = build("backbone", {"name": "tiny_convnet", "widths": [8, 16, 24]}).eval()
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = net(x)
        h = x
        for stage in net.stages:
            h = stage(h)
    assert net.feat_dim == 24 and net.level_dims == []
    assert h.shape == (3, 24, 4, 4)  # three stride-2 stages
    torch.testing.assert_close(out[keys.FEATURES], h.mean(dim=(2, 3)))


def test_levels_by_index_and_name_equal_manual_stages():
    by_index = TinyConvNet(levels=[0, -1]).eval()
    by_name = TinyConvNet(levels=["stages.0", "stages.2"]).eval()
    by_name.load_state_dict(by_index.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        s0 = by_index.stages[0](x)
        s2 = by_index.stages[2](by_index.stages[1](s0))
        a, b = by_index(x), by_name(x)
    assert by_index.level_dims == by_name.level_dims == [16, 64]
    for out in (a, b):
        torch.testing.assert_close(out[keys.FEATURE_MAPS][0], s0)
        torch.testing.assert_close(out[keys.FEATURE_MAPS][1], s2)
    with pytest.raises(ConfigError, match="out of range"):
        TinyConvNet(levels=[3])


def test_data_config_and_freeze():
    net = TinyConvNet(img_size=48, freeze=True)
    assert net.data_config["input_size"] == (3, 48, 48)
    assert net.data_config["mean"] == pytest.approx((0.485, 0.456, 0.406))
    net.train()
    assert not net.training and not any(p.requires_grad for p in net.parameters())
