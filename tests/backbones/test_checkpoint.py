"""backbone.checkpoint: every file format, key selection and remapping, strictness, errors."""

from __future__ import annotations

import re
from collections import OrderedDict

import pytest
import pytorch_lightning as pl
import timm
import torch
from omegaconf import OmegaConf
from safetensors.torch import save_file
from torch import nn

from clothret import keys
from clothret.backbones import TimmBackbone
from clothret.backbones.checkpoint import load_checkpoint, remap_keys
from clothret.errors import ConfigError
from clothret.lightning_modules.retrieval_module import RetrievalModule
from clothret.registry import build

from .test_timm_backbone import _randomize


@pytest.fixture(scope="module")
def source() -> nn.Module:
    """A resnet18 with its 1000-class fc, every tensor random: what a real checkpoint holds."""
    model = timm.create_model("resnet18").eval()
    _randomize(model, seed=3)
    return model


def _assert_loaded(backbone: TimmBackbone, expected: dict[str, torch.Tensor]) -> None:
    loaded = backbone.model.state_dict()
    assert set(loaded) == {k for k in expected if not k.startswith("fc.")}
    for name, value in loaded.items():
        assert torch.equal(value, expected[name]), name


def _features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """timm's pre-logits features of a classifier model (the backbone's FEATURES)."""
    with torch.no_grad():
        return model.forward_head(model.forward_features(x), pre_logits=True)


@pytest.mark.parametrize(
    ("filename", "wrap"),
    [
        ("plain.pth", lambda sd: sd),
        ("timm_train.pth.tar", lambda sd: {"state_dict": sd, "epoch": 3, "arch": "resnet18"}),
        ("pytorch_model.bin", lambda sd: {"model": sd}),
        ("ddp.pt", lambda sd: {f"module.{k}": v for k, v in sd.items()}),
        ("model.safetensors", None),
    ],
)
def test_formats_load_the_file_tensors(tmp_path, source, filename, wrap):
    path = tmp_path / filename
    state = source.state_dict()
    if wrap is None:
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(wrap(state), path)
    backbone = TimmBackbone("resnet18", checkpoint=str(path)).eval()
    _assert_loaded(backbone, state)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        features = backbone(x)[keys.FEATURES]
    torch.testing.assert_close(features, _features(source, x))


def test_timm_checkpoint_prefers_ema_weights(tmp_path, source):
    ema = timm.create_model("resnet18")
    _randomize(ema, seed=4)
    path = tmp_path / "train.pth.tar"
    torch.save({"state_dict": source.state_dict(), "state_dict_ema": ema.state_dict()}, path)
    report = load_checkpoint(TimmBackbone("resnet18").model, path)
    backbone = TimmBackbone("resnet18", checkpoint=str(path))
    _assert_loaded(backbone, ema.state_dict())
    assert report.dropped == ["fc.weight", "fc.bias"]  # the 1000-class head, not "unexpected"
    assert report.unexpected == report.missing == report.mismatched == []


def test_classifier_with_another_name_is_dropped(tmp_path):
    vit = timm.create_model("test_vit", img_size=64)  # classifier "head", kept norm layers
    _randomize(vit, seed=5)
    path = tmp_path / "vit.safetensors"
    save_file(vit.state_dict(), str(path))
    backbone = TimmBackbone("test_vit", img_size=64, checkpoint=str(path))
    loaded = backbone.model.state_dict()
    assert "head.weight" not in loaded and "norm.weight" in loaded
    for name, value in loaded.items():
        assert torch.equal(value, vit.state_dict()[name]), name


@pytest.fixture(scope="module")
def lightning_ckpt(tmp_path_factory) -> tuple[str, RetrievalModule]:
    """A checkpoint written by Lightning from clothret's module with unshared backbones (DARN)."""
    module = RetrievalModule(
        TimmBackbone("resnet18"), loss={"name": "triplet"}, shared_backbone=False
    )
    _randomize(module.backbone, seed=6)
    _randomize(module.consumer_backbone, seed=7)
    trainer = pl.Trainer(
        logger=False, enable_checkpointing=False, enable_progress_bar=False, accelerator="cpu"
    )
    trainer.strategy.connect(module)
    path = tmp_path_factory.mktemp("run") / "last.ckpt"
    trainer.save_checkpoint(path)
    return str(path), module


def test_lightning_checkpoint_takes_the_backbone(lightning_ckpt):
    path, module = lightning_ckpt
    shop = TimmBackbone("resnet18", checkpoint=path)
    consumer = TimmBackbone(
        "resnet18", checkpoint=path, checkpoint_prefix="consumer_backbone.model."
    )
    _assert_loaded(shop, module.backbone.model.state_dict())
    _assert_loaded(consumer, module.consumer_backbone.model.state_dict())
    with pytest.raises(ConfigError, match=r"no key of the file starts with it.*'backbone\.'"):
        TimmBackbone("resnet18", checkpoint=path, checkpoint_prefix="student.")


def test_key_map_and_prefix_rename_keys(tmp_path, source):
    path = tmp_path / "encoder.pth"
    state = source.state_dict()
    torch.save({f"encoder.{k}": v for k, v in state.items()}, path)
    with pytest.raises(ConfigError) as info:
        TimmBackbone("resnet18", checkpoint=str(path))
    message = str(info.value)
    assert "the file's keys carry the prefix 'encoder.'" in message
    assert "Nothing would be loaded" in message
    node = OmegaConf.create(
        {"name": "resnet18", "checkpoint": str(path), "checkpoint_key_map": {"encoder.": ""}}
    )
    _assert_loaded(build("backbone", node, at="backbone"), state)
    _assert_loaded(
        TimmBackbone("resnet18", checkpoint=str(path), checkpoint_prefix="encoder."), state
    )


def test_remap_keys_applies_replacements_in_order():
    x = torch.zeros(1)
    state = {"a.conv.weight": x, "b.bn.bias": x, "c.fc.weight": x}
    key_map = {"a.": "b.", "b.": "", "c.fc.": "head."}
    # Written out: a. -> b. -> "" for the first key; b. -> "" for the second; c.fc. -> head.
    assert list(remap_keys(state, key_map)) == ["conv.weight", "bn.bias", "head.weight"]
    with pytest.raises(ConfigError, match=re.escape("renames both 'a.w' and 'b.w' to 'w'")):
        remap_keys({"a.w": x, "b.w": x}, {"a.": "", "b.": ""})
    with pytest.raises(ConfigError, match="strings"):
        remap_keys(state, {"a.": None})


def _broken_file(tmp_path, source) -> tuple[str, dict[str, torch.Tensor]]:
    """resnet18's state dict less conv1.weight, plus extra.weight, with a wrong-shaped tensor."""
    state = dict(source.state_dict())
    del state["conv1.weight"]
    state["extra.weight"] = torch.ones(3)
    state["layer1.0.conv1.weight"] = torch.ones(64, 64, 1, 1)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    return str(path), state


def test_strict_lists_missing_unexpected_and_mismatched(tmp_path, source):
    path, _ = _broken_file(tmp_path, source)
    with pytest.raises(ConfigError) as info:
        TimmBackbone("resnet18", checkpoint=path)
    message = str(info.value)
    n_model = sum(not k.endswith("num_batches_tracked") for k in source.state_dict()) - 2  # no fc
    assert f"{n_model - 2} of {n_model} model tensors match" in message
    assert "1 missing keys (in the model, not in the file): conv1.weight\n" in message
    assert "1 unexpected keys (in the file, not in the model): extra.weight\n" in message
    assert (
        "1 shape mismatches: layer1.0.conv1.weight file [64, 64, 1, 1] vs model [64, 64, 3, 3]"
        in message
    )
    assert "backbone.checkpoint_strict=false" in message and "backbone.name" in message


def test_non_strict_loads_what_fits_and_keeps_the_rest(tmp_path, source):
    path, state = _broken_file(tmp_path, source)
    torch.manual_seed(0)
    initial = TimmBackbone("resnet18").model.state_dict()
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match=r"partly fits(.|\n)*1 missing keys"):
        backbone = TimmBackbone("resnet18", checkpoint=path, checkpoint_strict=False)
    for name, value in backbone.model.state_dict().items():
        kept = name in ("conv1.weight", "layer1.0.conv1.weight")
        assert torch.equal(value, initial[name] if kept else state[name]), name


def test_many_missing_keys_are_counted_and_name_the_architecture(tmp_path, source):
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    resnet34 = set(timm.create_model("resnet34", num_classes=0).state_dict())
    missing = [k for k in resnet34 - set(source.state_dict()) if "num_batches" not in k]
    with pytest.raises(ConfigError) as info:
        TimmBackbone("resnet34", checkpoint=str(path))
    message = str(info.value)
    assert f"{len(missing)} missing keys" in message
    assert f"(+{len(missing) - 5} more)" in message
    assert "timm model 'resnet34'" in message and "set backbone.name" in message


def test_model_prefix_missing_from_the_file_is_suggested(tmp_path):
    model = nn.Sequential(OrderedDict(body=nn.Linear(2, 2)))
    path = tmp_path / "bare.pth"
    torch.save({"weight": torch.ones(2, 2), "bias": torch.ones(2)}, path)
    with pytest.raises(ConfigError, match=r"backbone\.checkpoint_key_map=\{'': 'body\.'\}"):
        load_checkpoint(model, path)
    load_checkpoint(model, path, key_map={"": "body."})
    assert torch.equal(model.body.weight, torch.ones(2, 2))
    with pytest.raises(ConfigError, match="Nothing would be loaded"):
        load_checkpoint(model, path, strict=False)


def test_unreadable_files_are_clear_errors(tmp_path, source):
    with pytest.raises(ConfigError, match="does not exist"):
        TimmBackbone("resnet18", checkpoint=str(tmp_path / "missing.pth"))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match=r"Cannot read backbone\.checkpoint .*garbage\.pth"):
        TimmBackbone("resnet18", checkpoint=str(garbage))
    pickled = tmp_path / "pickled.pth"
    torch.save(source, pickled)  # a whole pickled model: refused by weights_only=True
    with pytest.raises(ConfigError, match=r"not the pickled model"):
        TimmBackbone("resnet18", checkpoint=str(pickled))
    empty = tmp_path / "empty.pth"
    torch.save({"epoch": 3, "args": {"lr": 0.1}}, empty)
    with pytest.raises(ConfigError, match=r"holds no tensors \(keys \['args', 'epoch'\]\)"):
        TimmBackbone("resnet18", checkpoint=str(empty))
    npz = tmp_path / "vit.npz"
    npz.write_bytes(b"")
    with pytest.raises(ConfigError, match="custom_load: true"):
        TimmBackbone("resnet18", checkpoint=str(npz))


def test_checkpoint_excludes_pretrained(tmp_path, source):
    path = tmp_path / "w.pth"
    torch.save(source.state_dict(), path)
    with pytest.raises(ConfigError, match=r"set only one \(backbone.pretrained=false"):
        TimmBackbone("resnet18", pretrained=True, checkpoint=str(path))
