"""TimmBackbone: features and levels against hand-run submodules, pretrained paths, options."""

from __future__ import annotations

import copy

import pytest
import timm
import torch
from huggingface_hub.errors import LocalEntryNotFoundError

from clothret import keys
from clothret.backbones import TimmBackbone
from clothret.errors import ConfigError
from clothret.registry import build


def _randomize(module: torch.nn.Module, seed: int = 0) -> None:
    """Random weights and BN statistics everywhere (timm zero-inits the last BN of a block)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                value = torch.rand(tensor.shape, generator=gen) * 0.5 + 0.5
                tensor.copy_(value if "running_var" in name else value - 0.75)


def _resnet_trunk(m: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """ResNet stem and stages run by hand: outputs of layer3, layer4.0, layer4.1."""
    x = m.maxpool(m.act1(m.bn1(m.conv1(x))))
    x3 = m.layer3(m.layer2(m.layer1(x)))
    b0 = m.layer4[0](x3)
    b1 = m.layer4[1](b0)
    return [x3, b0, b1]


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def test_resnet18_features_are_pooled_last_stage(images):
    backbone = build("backbone", {"name": "resnet18"}).eval()
    _randomize(backbone)
    with torch.no_grad():
        out = backbone(images)
        trunk = _resnet_trunk(backbone.model, images)
        expected = trunk[2].mean(dim=(2, 3))
    assert backbone.feat_dim == 512 and backbone.level_dims == []
    assert set(out) == {keys.FEATURES}
    torch.testing.assert_close(out[keys.FEATURES], expected)


def test_level_hooks_equal_manual_submodules(images):
    backbone = build("backbone", {"name": "resnet18", "levels": ["layer4.0", "layer4.1"]}).eval()
    _randomize(backbone)
    with torch.no_grad():
        out = backbone(images)
        _, b0, b1 = _resnet_trunk(backbone.model, images)
    assert backbone.level_dims == [512, 512]
    assert len(out[keys.FEATURE_MAPS]) == 2
    torch.testing.assert_close(out[keys.FEATURE_MAPS][0], b0)
    torch.testing.assert_close(out[keys.FEATURE_MAPS][1], b1)
    torch.testing.assert_close(out[keys.FEATURES], b1.mean(dim=(2, 3)))


def test_stage_indices_equal_module_names(images):
    by_name = build("backbone", {"name": "resnet18", "levels": ["layer4", "layer3"]}).eval()
    by_index = build("backbone", {"name": "resnet18", "levels": [-1, 3]}).eval()
    _randomize(by_name)
    by_index.load_state_dict(by_name.state_dict())
    with torch.no_grad():
        a, b = by_name(images), by_index(images)
        x3 = _resnet_trunk(by_name.model, images)[0]
    assert by_index.level_dims == by_name.level_dims == [512, 256]
    torch.testing.assert_close(b[keys.FEATURE_MAPS][1], x3)
    for x, y in zip(a[keys.FEATURE_MAPS], b[keys.FEATURE_MAPS], strict=True):
        torch.testing.assert_close(x, y)
    torch.testing.assert_close(a[keys.FEATURES], b[keys.FEATURES])


def test_clothingnet_levels_of_resnet50():
    levels = ["layer4.0", "layer4.1", "layer4.2", "layer4.0.act2"]
    backbone = build("backbone", {"name": "resnet50", "levels": levels, "img_size": 64})
    # Block outputs have 2048 channels; the 3x3 conv inside a conv5 block has 512 (the paper's
    # stated size of its conv5_1/conv5_2 outputs).
    assert backbone.level_dims == [2048, 2048, 2048, 512]
    maps = backbone(torch.zeros(1, 3, 64, 64))[keys.FEATURE_MAPS]
    assert [tuple(m.shape) for m in maps] == [(1, 2048, 2, 2)] * 3 + [(1, 512, 2, 2)]


def test_dry_run_leaves_batchnorm_statistics_alone():
    backbone = TimmBackbone("resnet18", levels=["layer2"])
    assert backbone.training and backbone.model.training
    for module in backbone.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            assert int(module.num_batches_tracked) == 0
            assert torch.all(module.running_mean == 0) and torch.all(module.running_var == 1)


def test_stage_indices_of_a_vit_are_maps_and_token_modules_are_rejected():
    vit = TimmBackbone("test_vit", levels=[1, -1], img_size=64)
    widths = [info["num_chs"] for info in vit.model.feature_info]
    assert vit.level_dims == [widths[1], widths[-1]]
    maps = vit(torch.zeros(2, 3, 64, 64))[keys.FEATURE_MAPS]
    assert [tuple(m.shape) for m in maps] == [(2, widths[1], 4, 4), (2, widths[-1], 4, 4)]
    with pytest.raises(ConfigError, match="not a \\[B, C, H, W\\] feature map"):
        TimmBackbone("test_vit", levels=["blocks.1"], img_size=64)


def test_bad_levels_are_config_errors():
    with pytest.raises(ConfigError, match=r"'layer5' is not a submodule.*'layer4'"):
        TimmBackbone("resnet18", levels=["layer5"])
    with pytest.raises(ConfigError, match="mixes"):
        TimmBackbone("resnet18", levels=["layer4", 3])
    with pytest.raises(ConfigError, match="out of range"):
        TimmBackbone("resnet18", levels=[5])


def test_deepcopy_gives_independent_hooks(images):
    backbone = build("backbone", {"name": "resnet18", "levels": ["layer4.0"]}).eval()
    twin = copy.deepcopy(backbone)
    with torch.no_grad():
        twin.model.layer4[0].downsample[0].weight.mul_(2.0)
        a, b = backbone(images), twin(images)
        expected = twin.model.layer4[0](_resnet_trunk(twin.model, images)[0])
    torch.testing.assert_close(b[keys.FEATURE_MAPS][0], expected)
    assert not torch.allclose(a[keys.FEATURE_MAPS][0], b[keys.FEATURE_MAPS][0])


def test_pretrained_offline_gives_clear_error(monkeypatch):
    def no_network(*args, **kwargs):
        raise LocalEntryNotFoundError("cannot find the requested files in the local cache")

    monkeypatch.setattr(timm.models._hub, "hf_hub_download", no_network)
    with pytest.raises(ConfigError) as info:
        build("backbone", {"name": "resnet18", "pretrained": True})
    message = str(info.value)
    assert "network" in message and "backbone.checkpoint=/path" in message
    assert "timm/resnet18" in message  # names the Hub repo to fetch by hand


def test_timm_file_loader_through_model_kwargs(tmp_path):
    """timm's own loader on a local file (for original-format files needing its converters)."""
    source = timm.create_model("resnet18")  # with its 1000-class fc, as a real checkpoint
    _randomize(source, seed=3)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    overlay = {"pretrained_cfg_overlay": {"file": str(path)}}
    backbone = TimmBackbone("resnet18", pretrained=True, model_kwargs=overlay)
    loaded = backbone.model.state_dict()
    assert "fc.weight" not in loaded
    for name, value in loaded.items():
        torch.testing.assert_close(value, source.state_dict()[name])
    torch.save({"conv1.weight": torch.zeros(1, 1, 1, 1)}, path)
    with pytest.raises(ConfigError, match="Cannot load pretrained_cfg_overlay file"):
        TimmBackbone("resnet18", pretrained=True, model_kwargs=overlay)
    with pytest.raises(ConfigError, match="must be true, false or 'package'"):
        TimmBackbone("resnet18", pretrained="yes")


def test_img_size_sets_data_config_and_fixed_size_models():
    cnn = TimmBackbone("resnet18", img_size=96)
    assert cnn.data_config["input_size"] == (3, 96, 96)
    vit = TimmBackbone("vit_tiny_patch16_224", img_size=32)
    assert vit.data_config["input_size"] == (3, 32, 32)
    assert vit(torch.zeros(1, 3, 32, 32))[keys.FEATURES].shape == (1, vit.feat_dim)


def test_grad_checkpointing_gives_same_gradients(images):
    plain = TimmBackbone("resnet18", levels=["layer4.0"])
    checkpointed = TimmBackbone("resnet18", levels=["layer4.0"], grad_checkpointing=True)
    _randomize(plain)
    checkpointed.load_state_dict(plain.state_dict())
    assert checkpointed.model.grad_checkpointing
    grads = []
    for backbone in (plain, checkpointed):
        out = backbone(images)
        (out[keys.FEATURES].sum() + out[keys.FEATURE_MAPS][0].square().mean()).backward()
        grads.append(backbone.model.conv1.weight.grad)
    torch.testing.assert_close(grads[0], grads[1])
    with pytest.raises(ConfigError, match="gradient checkpointing"):
        TimmBackbone("dla46_c", grad_checkpointing=True)


def test_compile_keeps_outputs_and_parameter_names(images):
    eager = TimmBackbone("test_resnet", levels=["layer3"]).eval()
    compiled = TimmBackbone("test_resnet", levels=["layer3"], compile={"backend": "eager"}).eval()
    compiled.load_state_dict(eager.state_dict())
    assert list(compiled.state_dict()) == list(eager.state_dict())
    with torch.no_grad():
        a, b = eager(images), compiled(images)
    torch.testing.assert_close(a[keys.FEATURES], b[keys.FEATURES])
    torch.testing.assert_close(a[keys.FEATURE_MAPS][0], b[keys.FEATURE_MAPS][0])
    assert copy.deepcopy(compiled)._compiled_call_impl is not None
    assert eager._compiled_call_impl is None


@pytest.mark.slow
def test_compile_with_inductor(images):
    eager = TimmBackbone("resnet18", levels=["layer4.0"]).eval()
    compiled = TimmBackbone("resnet18", levels=["layer4.0"], compile=True).eval()
    compiled.load_state_dict(eager.state_dict())
    with torch.no_grad():
        a, b = eager(images), compiled(images)
    torch.testing.assert_close(a[keys.FEATURE_MAPS][0], b[keys.FEATURE_MAPS][0])


def test_freeze_stops_gradients_and_batchnorm_updates(images):
    backbone = TimmBackbone("resnet18", freeze=True)
    backbone.train()
    before = backbone.model.bn1.running_mean.clone()
    backbone(images)
    assert not backbone.training and not backbone.model.bn1.training
    assert not any(p.requires_grad for p in backbone.parameters())
    torch.testing.assert_close(backbone.model.bn1.running_mean, before)
