"""``contrastive_hash`` loss term: contrastive loss with ±1 regulariser on hash-layer outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses import functional as F
from clothret.losses.base import MetricLossTerm
from clothret.miners.all import AllMiner
from clothret.registry import register

PAIR_MODES = ("all", "balanced")
ACTIVATIONS = ("tanh", "sigmoid")


@register("loss", "contrastive_hash")
class ContrastiveHashLoss(MetricLossTerm):
    """Street-to-shop hashing loss (eq. 4, deep-supervised-hashing form) on ``HASH`` codes.

    Pairs of the batch with ``similar = same ITEM_ID`` get ``½·s·‖h1−h2‖² +
    ½·(1−s)·max(margin − ‖h1−h2‖², 0) + alpha·(‖|h1|−1‖₁ + ‖|h2|−1‖₁)``, averaged over pairs.
    The regulariser pulls codes towards ±1, the values of ``tanh_hash`` codes. Sigmoid codes
    (``latent_hash``, in [0, 1]) would be pulled towards 1 everywhere, so with
    ``activation: sigmoid`` they are first mapped to ``2h − 1``: the regulariser then pulls
    towards 0/1 and the margin keeps its meaning.

    Args:
        margin: margin on the squared code distance; ``None`` means ``2·bits`` of the codes.
        alpha: weight of the ±1 regulariser (the paper's deep-supervised-hashing setting, 0.01).
        pairs: ``"all"`` pairs, or ``"balanced"``: as many similar as dissimilar pairs (the
            smaller count), sampled without replacement by a generator seeded ``seed + step``.
        activation: ``"tanh"`` (codes in [−1, 1]) or ``"sigmoid"`` (codes in [0, 1]).
        seed: base seed of the ``balanced`` sampling; the step counter is a saved buffer.
        cross_device: form pairs of local codes with the codes of all processes.
        consumer_to_shop: pairs of a consumer image and a shop image only (needs ``DOMAIN``).
        weight: factor the module applies to this term's value.
    """

    registered_name = "contrastive_hash"
    requires_outputs = (keys.HASH,)
    requires_batch = (keys.ITEM_ID,)

    def __init__(
        self,
        margin: float | None = None,
        alpha: float = 0.01,
        pairs: str = "all",
        activation: str = "tanh",
        seed: int = 0,
        cross_device: bool = False,
        consumer_to_shop: bool = False,
        weight: float = 1.0,
    ) -> None:
        if pairs not in PAIR_MODES:
            raise ConfigError(f"contrastive_hash pairs must be one of {PAIR_MODES}, got {pairs!r}.")
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"contrastive_hash activation must be one of {ACTIVATIONS}, got {activation!r}: "
                "'tanh' for tanh_hash codes, 'sigmoid' for latent_hash codes."
            )
        super().__init__(
            miner=AllMiner(),
            cross_device=cross_device,
            consumer_to_shop=consumer_to_shop,
            weight=weight,
        )
        self.margin = None if margin is None else float(margin)
        self.alpha = float(alpha)
        self.pair_mode = pairs
        self.activation = activation
        self.seed = int(seed)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def balance(self, i: Tensor, j: Tensor, similar: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """A random subset with equally many similar and dissimilar pairs."""
        generator = torch.Generator().manual_seed(self.seed + int(self.step))
        self.step += 1
        pos, neg = similar.nonzero().flatten(), (~similar).nonzero().flatten()
        k = min(len(pos), len(neg))
        keep = [
            side[torch.randperm(len(side), generator=generator)[:k].to(side.device)]
            for side in (pos, neg)
        ]
        chosen = torch.cat(keep)
        return i[chosen], j[chosen], similar[chosen]

    def forward(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> Tensor:
        self.check_inputs(outputs, batch)
        codes = outputs[keys.HASH]
        if self.activation == "sigmoid":
            codes = 2 * codes - 1
        codes, (items,), anchors, candidates = self.gather(codes, batch, keys.ITEM_ID)
        i, j, similar = self.miner.pairs(codes, items, anchors, candidates)
        if self.pair_mode == "balanced":
            i, j, similar = self.balance(i, j, similar)
        return F.contrastive_hash(codes[i], codes[j], similar, margin=self.margin, alpha=self.alpha)
