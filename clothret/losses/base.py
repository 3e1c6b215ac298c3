"""Loss-term base classes: key validation, miner building and cross-device gathering.

A loss term reads the model outputs and the batch (DESIGN §1) and returns an unweighted scalar;
the module multiplies it by ``weight``. ``requires_outputs`` and ``requires_batch`` name what it
reads, so a module can check its heads before training, and ``check_inputs`` repeats the check
on every call with a message naming the missing key and what provides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses.distributed import gather_batch
from clothret.miners.base import Miner
from clothret.registry import build

# What produces each key, for error messages.
PROVIDERS: dict[str, str] = {
    keys.FEATURES: "the backbone",
    keys.EMBEDDING: "an `embedding` or `fusion` head",
    keys.HASH: "a `latent_hash` or `tanh_hash` head",
    keys.CATEGORY_LOGITS: "a `classifier` head",
    keys.ATTRIBUTE_LOGITS: "a `multitask` head",
    keys.ITEM_ID: "the manifest's `item_id` column",
    keys.CATEGORY: "the manifest's `category` column",
    keys.ATTRIBUTES: "the manifest's `attr_<task>` columns",
    keys.DOMAIN: "the manifest's `domain` column",
}


class LossTerm(nn.Module):
    """Base of the ``loss`` group: ``forward(outputs, batch)`` → unweighted scalar.

    Args:
        weight: factor the module applies to this term's value.
    """

    registered_name: ClassVar[str] = "loss"
    requires_outputs: tuple[str, ...] = ()
    requires_batch: tuple[str, ...] = ()

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def check_inputs(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> None:
        """Raise a ConfigError naming the first required key that is missing."""
        for where, required, present in (
            ("model output", self.requires_outputs, outputs),
            ("batch field", self.requires_batch, batch),
        ):
            for key in required:
                if key not in present:
                    raise ConfigError(
                        f"Loss {self.registered_name!r} needs the {where} {key!r}, which "
                        f"{PROVIDERS.get(key, 'nothing configured')} provides; it has only "
                        f"{sorted(present)}. Add that component or choose another loss."
                    )

    def forward(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> Tensor:
        raise NotImplementedError


class MetricLossTerm(LossTerm):
    """Base of losses on tuples mined inside the batch.

    Args:
        miner: a ``miner`` node (``{name: ..., ...}`` or a name) or a built Miner.
        cross_device: mine local anchors against the embeddings of all processes.
        consumer_to_shop: anchors are consumer images (``DOMAIN`` 1) and positives/negatives
            shop images (``DOMAIN`` 0), as in consumer-to-shop training; needs ``DOMAIN``.
        weight: factor the module applies to this term's value.
    """

    def __init__(
        self,
        miner: Mapping[str, Any] | str | Miner = "batch_hard",
        cross_device: bool = False,
        consumer_to_shop: bool = False,
        weight: float = 1.0,
    ) -> None:
        super().__init__(weight=weight)
        self.miner = miner if isinstance(miner, Miner) else build("miner", miner, at="miner")
        self.cross_device = bool(cross_device)
        self.consumer_to_shop = bool(consumer_to_shop)
        if self.consumer_to_shop:
            self.requires_batch = (*type(self).requires_batch, keys.DOMAIN)

    def gather(
        self, embeddings: Tensor, batch: Mapping[str, Any], *label_keys: str
    ) -> tuple[Tensor, list[Tensor], Tensor, Tensor | None]:
        """The (possibly cross-device) batch to mine in.

        Returns:
            ``(embeddings, labels, anchors, candidates)``: ``labels`` follows ``label_keys``;
            ``anchors`` are the local rows allowed as anchors, ``candidates`` a bool mask of rows
            allowed as partners (``None``: all).
        """
        device = embeddings.device
        labels = [torch.as_tensor(batch[k]).to(device) for k in label_keys]
        if self.consumer_to_shop:
            labels.append(torch.as_tensor(batch[keys.DOMAIN]).to(device))
        if self.cross_device:
            embeddings, labels, anchors = gather_batch(embeddings, *labels)
        else:
            anchors = torch.arange(len(embeddings), device=device)
        candidates = None
        if self.consumer_to_shop:
            domain = labels.pop()
            anchors = anchors[domain[anchors] == keys.DOMAIN_CONSUMER]
            candidates = domain == keys.DOMAIN_SHOP
        return embeddings, labels, anchors, candidates
