"""RetrievalModule wiring: heads in order, loss terms, build-time errors, presets, DARN routing."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from clothret import keys, registry
from clothret.errors import ConfigError

RUNTIME = {"num_categories": 3, "attribute_dims": {"colour": 4}, "label_counts": {"colour": 6}}


def _backbone(levels: list[int] | None = None) -> Any:
    return registry.build("backbone", {"name": "tiny_convnet", "img_size": 32, "levels": levels})


def _module(name: str = "retrieval", loss: Any = "triplet", **params: Any) -> Any:
    return registry.build(
        "module",
        {"name": name, **params},
        backbone=_backbone(params.pop("levels", None) if "levels" in params else [1, 2]),
        loss={"name": loss} if isinstance(loss, str) else loss,
        **RUNTIME,
    )


def _batch(n: int = 8) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(0)
    return {
        keys.IMAGE: torch.rand(n, 3, 32, 32, generator=generator),
        keys.ITEM_ID: torch.arange(n) // 2,
        keys.CATEGORY: torch.arange(n) % 3,
        keys.DOMAIN: torch.arange(n) % 2,
        keys.ATTRIBUTES: {"colour": torch.eye(4)[torch.arange(n) % 4]},
        keys.INDEX: torch.arange(n),
    }


def test_heads_run_in_order_and_each_reads_its_input() -> None:
    module = _module(
        heads={
            "embedding": {"name": "embedding", "dim": 16},
            "hash": {"name": "latent_hash", "bits": 12, "input": keys.EMBEDDING},
            "classifier": {"name": "classifier", "input": keys.HASH},
        },
    )
    outputs = module(_batch()[keys.IMAGE])
    assert outputs[keys.EMBEDDING].shape == (8, 16)
    assert outputs[keys.HASH].shape == (8, 12)
    assert outputs[keys.CATEGORY_LOGITS].shape == (8, 3)
    assert torch.equal(outputs[keys.CODES], outputs[keys.HASH] > 0.5)
    expected = module.heads["classifier"](outputs[keys.HASH])
    assert torch.allclose(outputs[keys.CATEGORY_LOGITS], expected)


def test_training_step_is_the_weighted_sum_of_the_terms() -> None:
    module = _module(
        heads={"embedding": {"name": "embedding", "dim": 16}, "cls": {"name": "classifier"}},
        aux_losses={"category": {"name": "cross_entropy", "weight": 0.5}},
    )
    batch = _batch()
    torch.manual_seed(0)
    total = module.training_step(batch, 0)
    outputs = module(batch[keys.IMAGE], batch[keys.DOMAIN])
    terms = module.loss_terms
    expected = terms["triplet"](outputs, batch) + 0.5 * terms["category"](outputs, batch)
    assert torch.allclose(total, expected, atol=1e-6)
    assert list(terms) == ["triplet", "category"]


def test_metric_loss_on_a_module_without_embedding_is_a_build_error() -> None:
    with pytest.raises(ConfigError, match=r"reads output.*embedding"):
        _module(heads={"classifier": {"name": "classifier"}}, loss="triplet")


def test_head_reading_an_output_nothing_produced_is_a_build_error() -> None:
    with pytest.raises(ConfigError, match=r"module\.heads\.hash"):
        _module(heads={"hash": {"name": "latent_hash", "input": keys.EMBEDDING}})


def test_unknown_eval_feature_is_a_build_error() -> None:
    with pytest.raises(ConfigError, match="eval_feature"):
        _module(eval_feature=keys.HASH)


def test_backbone_gets_its_own_learning_rate_multiplier() -> None:
    module = _module(backbone_lr_mult=0.1, optimizer={"name": "sgd", "lr": 0.5})
    optimizer = module.configure_optimizers()["optimizer"]
    lrs = [group["lr"] for group in optimizer.param_groups]
    assert lrs == pytest.approx([0.05, 0.5])
    backbone_ids = {id(p) for p in module.backbone.parameters()}
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == backbone_ids


def test_unknown_optimizer_and_scheduler_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'adamw'"):
        _module(optimizer={"name": "adamww"}).configure_optimizers()
    with pytest.raises(ConfigError, match="step_sise"):
        _module(scheduler={"name": "step", "step_sise": 3}).configure_optimizers()


@pytest.mark.parametrize(
    ("preset", "loss", "outputs"),
    [
        ("latent_hash", "cross_entropy", {keys.EMBEDDING, keys.HASH, keys.CATEGORY_LOGITS}),
        ("multitask_hash", "contrastive_hash", {keys.HASH, keys.ATTRIBUTE_LOGITS}),
        ("clothingnet", "quadruplet", {keys.EMBEDDING}),
        ("multiweight", "weighted_multilabel", {keys.EMBEDDING, keys.ATTRIBUTE_LOGITS}),
        ("wtbi", "triplet", {keys.EMBEDDING}),
        ("darn", "triplet", {keys.EMBEDDING}),
    ],
)
def test_presets_wire_their_heads_and_train_one_step(
    preset: str, loss: str, outputs: set[str]
) -> None:
    module = _module(preset, loss=loss)
    batch = _batch()
    produced = module(batch[keys.IMAGE], batch[keys.DOMAIN])
    assert outputs <= set(produced)
    value = module.training_step(batch, 0)
    assert torch.isfinite(value)
    value.backward()
    grads = [p.grad for p in module.backbone.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_multitask_hash_preset_has_mu_weighted_attribute_losses() -> None:
    module = _module("multitask_hash", loss="contrastive_hash")
    assert module.loss_terms["attributes"].weight == pytest.approx(0.05)
    assert module.loss_terms["category"].weight == pytest.approx(1.0)


def test_darn_routes_each_domain_through_its_own_backbone() -> None:
    module = _module("darn", loss="triplet")
    assert module.consumer_backbone is not None
    with torch.no_grad():  # make the two backbones differ
        for p in module.consumer_backbone.parameters():
            p.add_(0.1)
    module.eval()
    batch = _batch()
    images, domain = batch[keys.IMAGE], batch[keys.DOMAIN]
    mixed = module(images, domain)[keys.FEATURES]
    shop = module.backbone(images)[keys.FEATURES]
    consumer = module.consumer_backbone(images)[keys.FEATURES]
    is_consumer = domain == keys.DOMAIN_CONSUMER
    assert torch.allclose(mixed[is_consumer], consumer[is_consumer])
    assert torch.allclose(mixed[~is_consumer], shop[~is_consumer])
