"""``all`` miner: every valid tuple of the batch."""

from __future__ import annotations

import torch
from torch import Tensor

from clothret.miners.base import Miner, empty_index
from clothret.registry import register


@register("miner", "all")
class AllMiner(Miner):
    """Every valid triplet, quadruplet or pair (each unordered pair once) in the batch.

    The number of quadruplets grows as positives × n1 × n2 per anchor, so keep batches small or
    prefer ``batch_hard`` for quadruplet training on large batches.
    """

    def select_triplets(
        self, dist: Tensor, pos: Tensor, neg: Tensor, margin: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        r, p, n = torch.nonzero(pos[:, :, None] & neg[:, None, :], as_tuple=True)
        return r, p, n

    def select_quadruplets(
        self,
        dist: Tensor,
        pos: Tensor,
        neg1: Tensor,
        neg2: Tensor,
        margin_id: float,
        margin_class: float,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        # One anchor at a time: the full [A, N, N, N] mask would not fit for large batches.
        parts: list[Tensor] = []
        for r in range(dist.shape[0]):
            lists = [m[r].nonzero().flatten() for m in (pos, neg1, neg2)]
            if any(len(x) == 0 for x in lists):
                continue
            combos = torch.cartesian_prod(*lists).reshape(-1, 3)
            parts.append(torch.cat([torch.full_like(combos[:, :1], r), combos], dim=1))
        if not parts:
            e = empty_index(dist.device)
            return e, e, e, e
        q = torch.cat(parts)
        return q[:, 0], q[:, 1], q[:, 2], q[:, 3]

    def select_pairs(
        self, dist: Tensor, pos: Tensor, neg: Tensor, once: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        r, j = torch.nonzero((pos | neg) & once, as_tuple=True)
        return r, j, pos[r, j]
