"""``quadruplet`` loss term: ClothingNet's quadruplet loss on quadruplets mined in the batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from clothret import keys
from clothret.losses import functional as F
from clothret.losses.base import MetricLossTerm
from clothret.miners.base import Miner
from clothret.registry import register


@register("loss", "quadruplet")
class QuadrupletLoss(MetricLossTerm):
    """ClothingNet quadruplet loss (eq. 7) on ``EMBEDDING`` with ``ITEM_ID`` and ``CATEGORY``.

    For each mined ``(a, p, n1, n2)`` (``p`` same item, ``n1`` same category other item, ``n2``
    other category): ``weight_id·[d(a,p) + margin_id − d(a,n1)]₊ +
    weight_class·[d(a,n1) + margin_class − d(a,n2)]₊`` (λ and μ of eq. 7), averaged over the
    quadruplets. ClothingNet takes consumer anchors and shop partners: ``consumer_to_shop``.

    Args:
        margin_id: item margin m1; must be below ``margin_class``.
        margin_class: category margin m2.
        weight_id: λ, weight of the item term.
        weight_class: μ, weight of the category term.
        miner: ``miner`` node or Miner (default ``batch_hard``).
        cross_device: mine local anchors against the embeddings of all processes.
        consumer_to_shop: consumer anchors, shop positives/negatives (needs ``DOMAIN``).
        weight: factor the module applies to this term's value.
    """

    registered_name = "quadruplet"
    requires_outputs = (keys.EMBEDDING,)
    requires_batch = (keys.ITEM_ID, keys.CATEGORY)

    def __init__(
        self,
        margin_id: float = 0.2,
        margin_class: float = 0.4,
        weight_id: float = 1.0,
        weight_class: float = 1.0,
        miner: Mapping[str, Any] | str | Miner = "batch_hard",
        cross_device: bool = False,
        consumer_to_shop: bool = False,
        weight: float = 1.0,
    ) -> None:
        F.check_quadruplet_margins(margin_id, margin_class)
        super().__init__(
            miner=miner, cross_device=cross_device, consumer_to_shop=consumer_to_shop, weight=weight
        )
        self.margin_id, self.margin_class = float(margin_id), float(margin_class)
        self.weight_id, self.weight_class = float(weight_id), float(weight_class)

    def forward(self, outputs: Mapping[str, Any], batch: Mapping[str, Any]) -> Tensor:
        self.check_inputs(outputs, batch)
        emb, (items, cats), anchors, candidates = self.gather(
            outputs[keys.EMBEDDING], batch, keys.ITEM_ID, keys.CATEGORY
        )
        a, p, n1, n2 = self.miner.quadruplets(
            emb, items, cats, anchors, candidates, self.margin_id, self.margin_class
        )
        return F.quadruplet(
            emb[a],
            emb[p],
            emb[n1],
            emb[n2],
            margin_id=self.margin_id,
            margin_class=self.margin_class,
            weight_id=self.weight_id,
            weight_class=self.weight_class,
        )
