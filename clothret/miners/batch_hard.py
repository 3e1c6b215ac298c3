"""``batch_hard`` miner: the hardest positive and negative(s) of each anchor."""

from __future__ import annotations

import torch
from torch import Tensor

from clothret.miners.base import Miner, hardest
from clothret.registry import register


@register("miner", "batch_hard")
class BatchHardMiner(Miner):
    """Batch-hard mining (Hermans et al. 2017): one tuple per anchor.

    Triplets: the farthest positive and the closest negative. Quadruplets: the farthest positive,
    the closest same-category negative ``n1`` and the closest other-category negative ``n2``.
    Pairs: the farthest positive pair and the closest negative pair of each anchor. Anchors
    lacking any of the needed partners are skipped.
    """

    def select_triplets(
        self, dist: Tensor, pos: Tensor, neg: Tensor, margin: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        p, has_p = hardest(dist, pos, largest=True)
        n, has_n = hardest(dist, neg, largest=False)
        keep = (has_p & has_n).nonzero().flatten()
        return keep, p[keep], n[keep]

    def select_quadruplets(
        self,
        dist: Tensor,
        pos: Tensor,
        neg1: Tensor,
        neg2: Tensor,
        margin_id: float,
        margin_class: float,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        p, has_p = hardest(dist, pos, largest=True)
        n1, has_n1 = hardest(dist, neg1, largest=False)
        n2, has_n2 = hardest(dist, neg2, largest=False)
        keep = (has_p & has_n1 & has_n2).nonzero().flatten()
        return keep, p[keep], n1[keep], n2[keep]

    def select_pairs(
        self, dist: Tensor, pos: Tensor, neg: Tensor, once: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        p, has_p = hardest(dist, pos, largest=True)
        n, has_n = hardest(dist, neg, largest=False)
        rp, rn = has_p.nonzero().flatten(), has_n.nonzero().flatten()
        similar = torch.cat(
            [torch.ones_like(rp, dtype=torch.bool), torch.zeros_like(rn, dtype=torch.bool)]
        )
        return torch.cat([rp, rn]), torch.cat([p[rp], n[rn]]), similar
