"""The one LightningModule: backbone → heads → outputs, trained by a weighted list of loss terms.

Each published method is a registered preset of it (see ``presets/``) that only changes defaults:
which heads, which auxiliary losses, which output is the retrieval feature.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from clothret import keys
from clothret.lightning_modules.optim import build_optimizer, build_scheduler, scaled_lr
from clothret.lightning_modules.wiring import build_heads, build_loss_terms, check_wiring
from clothret.registry import register

DEFAULT_OPTIMIZER = {"name": "adamw", "lr": 3e-4, "weight_decay": 1e-4}
DEFAULT_SCHEDULER = {"name": "cosine", "warmup_epochs": 0}
# Batch entries passed through the eval/predict steps for the metric callbacks.
EVAL_PASSTHROUGH = (keys.INDEX, keys.ITEM_ID, keys.CATEGORY, keys.IS_QUERY, keys.DOMAIN)


@register("module", "retrieval")
class RetrievalModule(pl.LightningModule):
    """Backbone, heads and loss terms composed from config nodes.

    Args:
        backbone: the built backbone (injected at run time from the ``backbone`` node).
        loss: the main loss node (injected from the top-level ``loss`` node).
        heads: role → head node, built in order; each reads an earlier output.
        aux_losses: label → extra loss node (with its ``weight``), e.g. attribute classifiers.
        optimizer: ``{name, lr, weight_decay, ...}`` for timm's optimizer factory.
        scheduler: ``{name: cosine|step|none, warmup_epochs, ...}``, stepped per epoch.
        backbone_lr_mult: backbone learning rate = ``lr × backbone_lr_mult``.
        lr_scaling: ``none``, ``linear`` or ``sqrt`` scaling of lr by effective batch size
            (per-device batch × devices × nodes × accumulation) over ``base_batch_size``.
        base_batch_size: the batch size the configured lr is meant for.
        shared_backbone: False gives shop and consumer images their own backbone copy (DARN).
        eval_feature: output used as the float retrieval feature (default: embedding if a head
            writes it, else the hash activations, else the backbone features).
        head_fit_batches: training batches used to fit heads that need it before training
            (ClothingNet's PCA projection).
        num_categories: runtime, from the training split's vocabulary.
        attribute_dims: runtime, task → number of values.
        label_counts: runtime, task → positive labels in the training split.
    """

    default_heads: ClassVar[dict[str, Any]] = {"embedding": {"name": "embedding", "dim": 128}}
    default_aux_losses: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        backbone: nn.Module,
        loss: Any = None,
        heads: Mapping[str, Any] | None = None,
        aux_losses: Mapping[str, Any] | None = None,
        optimizer: Mapping[str, Any] | None = None,
        scheduler: Mapping[str, Any] | None = None,
        backbone_lr_mult: float = 1.0,
        lr_scaling: str = "none",
        base_batch_size: int = 256,
        shared_backbone: bool = True,
        eval_feature: str | None = None,
        head_fit_batches: int = 50,
        num_categories: int | None = None,
        attribute_dims: Mapping[str, int] | None = None,
        label_counts: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__()
        # logger=False: loggers get the whole resolved config instead (see clothret.experiment).
        self.save_hyperparameters(ignore=["backbone", "loss"], logger=False)
        self.backbone = backbone
        # DARN-style unshared weights: index 0 serves shop images, index 1 consumer images.
        self.consumer_backbone = None if shared_backbone else copy.deepcopy(backbone)
        runtime = {
            "num_categories": num_categories,
            "attribute_dims": dict(attribute_dims) if attribute_dims else None,
            "label_counts": dict(label_counts) if label_counts else None,
        }
        dims: dict[str, Any] = {keys.FEATURES: backbone.feat_dim}
        if getattr(backbone, "level_dims", None):
            dims[keys.FEATURE_MAPS] = list(backbone.level_dims)
        head_nodes = self.default_heads if heads is None else heads
        self.heads, self.head_inputs = build_heads(head_nodes, dims, runtime)
        if keys.EMBEDDING in dims:
            runtime["embedding_dim"] = dims[keys.EMBEDDING]
        if keys.HASH in dims:
            runtime["code_bits"] = dims[keys.HASH]
        aux = self.default_aux_losses if aux_losses is None else aux_losses
        self.loss_terms = build_loss_terms(loss, aux, runtime)
        self.eval_feature = eval_feature or next(
            k for k in (keys.EMBEDDING, keys.HASH, keys.FEATURES) if k in dims
        )
        check_wiring(type(self).__name__, set(dims), self.loss_terms, self.eval_feature)
        self.optimizer_node = dict(optimizer or DEFAULT_OPTIMIZER)
        self.scheduler_node = dict(scheduler) if scheduler is not None else DEFAULT_SCHEDULER

    # ------------------------------------------------------------------ forward
    def forward(self, images: Tensor, domain: Tensor | None = None) -> dict[str, Any]:
        """All outputs for a batch of images; ``domain`` routes images when backbones differ."""
        outputs = self._backbone_outputs(images, domain)
        for role, head in self.heads.items():
            x = outputs[self.head_inputs[role]]
            if getattr(head, "condition_on_category", False):
                result = head(x, category_logits=outputs.get(keys.CATEGORY_LOGITS))
            else:
                result = head(x)
            outputs[head.output_key] = result
            if head.output_key == keys.HASH and hasattr(head, "binarize"):
                outputs[keys.CODES] = head.binarize(result.detach())
        return outputs

    def _backbone_outputs(self, images: Tensor, domain: Tensor | None) -> dict[str, Any]:
        if self.consumer_backbone is None or domain is None:
            return dict(self.backbone(images))
        consumer = domain == keys.DOMAIN_CONSUMER
        shop_out = self.backbone(images[~consumer]) if (~consumer).any() else None
        cons_out = self.consumer_backbone(images[consumer]) if consumer.any() else None
        merged: dict[str, Any] = {}
        for key in shop_out or cons_out:  # type: ignore[union-attr]
            parts = [o[key] for o in (shop_out, cons_out) if o is not None]
            if isinstance(parts[0], list):
                merged[key] = [
                    _scatter(consumer, *(p[i] for p in parts)) for i in range(len(parts[0]))
                ]
            else:
                merged[key] = _scatter(consumer, *parts)
        return merged

    # ------------------------------------------------------------------ fitted heads
    def on_fit_start(self) -> None:
        """Fit heads that need data before training (fusion with ``projection: pca``)."""
        pending = [r for r, h in self.heads.items() if not getattr(h, "fitted", True)]
        if not pending or getattr(self.trainer, "datamodule", None) is None:
            return
        if self.trainer.is_global_zero:
            self._fit_heads(pending)
        for role in pending:  # every process uses process 0's fit
            state = self.trainer.strategy.broadcast(self.heads[role].state_dict(), src=0)
            self.heads[role].load_state_dict(state)

    def _fit_heads(self, pending: list[str]) -> None:
        first = list(self.heads).index(pending[0])
        collected: dict[str, list[Any]] = {role: [] for role in pending}
        was_training = self.training
        self.eval()
        with torch.no_grad():
            loader = self.trainer.datamodule.train_dataloader()
            for i, batch in enumerate(loader):
                if i >= self.hparams.head_fit_batches:
                    break
                images = batch[keys.IMAGE].to(self.device)
                outputs = self._backbone_outputs(images, _to(batch.get(keys.DOMAIN), self.device))
                for role, head in list(self.heads.items())[:first]:
                    outputs[head.output_key] = head(outputs[self.head_inputs[role]])
                for role in pending:
                    value = outputs[self.head_inputs[role]]
                    collected[role].append(
                        [v.cpu() for v in value] if isinstance(value, list) else value.cpu()
                    )
        for role in pending:
            self.heads[role].fit(collected[role])
        self.train(was_training)

    # ------------------------------------------------------------------ steps
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        outputs = self(batch[keys.IMAGE], batch.get(keys.DOMAIN))
        total = torch.zeros((), device=batch[keys.IMAGE].device)
        batch_size = batch[keys.IMAGE].shape[0]
        for label, term in self.loss_terms.items():
            value = term(outputs, batch)
            self.log(f"train/{label}/loss", value, batch_size=batch_size, sync_dist=True)
            total = total + term.weight * value
        self.log("train/loss", total, prog_bar=True, batch_size=batch_size, sync_dist=True)
        return total

    def embed_batch(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Eval outputs for metric callbacks and export: features, codes, labels, indices."""
        outputs = self(batch[keys.IMAGE], batch.get(keys.DOMAIN))
        result: dict[str, Any] = {keys.EMBEDDING: outputs[self.eval_feature].float()}
        for key in (keys.CODES, keys.CATEGORY_LOGITS, keys.ATTRIBUTE_LOGITS):
            if key in outputs:
                result[key] = outputs[key]
        for key in (*EVAL_PASSTHROUGH, keys.ATTRIBUTES):
            if key in batch:
                result[key] = batch[key]
        return result

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        return self.embed_batch(batch)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        return self.embed_batch(batch)

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        return self.embed_batch(batch)

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self) -> Any:
        backbone_params = list(self.backbone.parameters())
        if self.consumer_backbone is not None:
            backbone_params += list(self.consumer_backbone.parameters())
        backbone_ids = {id(p) for p in backbone_params}
        other = [p for p in self.parameters() if id(p) not in backbone_ids]
        groups = [
            {"params": backbone_params, "lr_mult": self.hparams.backbone_lr_mult},
            {"params": other, "lr_mult": 1.0},
        ]
        node = dict(self.optimizer_node)
        node["lr"] = scaled_lr(
            float(node.get("lr", DEFAULT_OPTIMIZER["lr"])),
            self.hparams.lr_scaling,
            self._effective_batch_size(),
            self.hparams.base_batch_size,
        )
        optimizer = build_optimizer([g for g in groups if g["params"]], node)
        max_epochs = self.trainer.max_epochs if self._trainer is not None else 1
        scheduler = build_scheduler(optimizer, self.scheduler_node, max(1, max_epochs or 1))
        if scheduler is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }

    def _effective_batch_size(self) -> int:
        if self._trainer is None:
            return self.hparams.base_batch_size
        datamodule = getattr(self.trainer, "datamodule", None)
        per_device = getattr(datamodule, "batch_size", None) or self.hparams.base_batch_size
        return int(per_device) * self.trainer.world_size * self.trainer.accumulate_grad_batches


def _to(value: Tensor | None, device: torch.device) -> Tensor | None:
    return value.to(device) if value is not None else None


def _scatter(mask: Tensor, shop: Tensor, consumer: Tensor | None = None) -> Tensor:
    """Re-interleave per-domain results into batch order (``mask`` marks consumer rows)."""
    if consumer is None:  # only one domain present
        return shop
    out = shop.new_empty((mask.shape[0], *shop.shape[1:]))
    out[~mask] = shop
    out[mask] = consumer
    return out
