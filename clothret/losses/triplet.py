"""``triplet`` loss term: triplet margin loss on triplets mined inside the batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from clothret import keys
from clothret.losses import functional as F
from clothret.losses.base import MetricLossTerm
from clothret.miners.base import Miner
from clothret.registry import register


@register("loss", "triplet")
class TripletLoss(MetricLossTerm):
    """Triplet margin loss ``[d(a,p) − d(a,n) + margin]₊`` on ``EMBEDDING`` with ``ITEM_ID`` labels.

    Used by the WTBI and DARN baselines. Triplets come from the miner; the value is the mean over
    mined triplets (zero, with gradient, when the batch has none).

    Args:
        margin: triplet margin on Euclidean distances.
        miner: ``miner`` node or Miner (default ``batch_hard``).
        cross_device: mine local anchors against the embeddings of all processes.
        consumer_to_shop: consumer anchors, shop positives/negatives (needs ``DOMAIN``).
        weight: factor the module applies to this term's value.
    """

    registered_name = "triplet"
    requires_outputs = (keys.EMBEDDING,)
    requires_batch = (keys.ITEM_ID,)

    def __init__(
        self,
        margin: float = 0.2,
        miner: Mapping[str, Any] | str | Miner = "batch_hard",
        cross_device: bool = False,
        consumer_to_shop: bool = False,
        weight: float = 1.0,
    ) -> None:
        super().__init__(
            miner=miner, cross_device=cross_device, consumer_to_shop=consumer_to_shop, weight=weight
        )
        self.margin = float(margin)

    def forward(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> Tensor:
        self.check_inputs(outputs, batch)
        emb, (items,), anchors, candidates = self.gather(
            outputs[keys.EMBEDDING], batch, keys.ITEM_ID
        )
        a, p, n = self.miner.triplets(emb, items, anchors, candidates, margin=self.margin)
        return F.triplet(emb[a], emb[p], emb[n], margin=self.margin)
