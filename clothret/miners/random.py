"""``random`` miner: uniformly random valid partners per anchor, reproducible from a seed."""

from __future__ import annotations

import torch
from torch import Tensor

from clothret.miners.base import Miner
from clothret.registry import register


@register("miner", "random")
class RandomMiner(Miner):
    """One uniformly random tuple per anchor, seeded per mining call.

    Triplets: a random positive and a random negative. Quadruplets: a random positive, ``n1`` and
    ``n2``. Pairs: one random positive and one random negative pair per anchor (a balanced set).
    Call ``k`` draws from a ``torch.Generator`` seeded with ``seed + k``; the call counter is a
    buffer, so it is saved in checkpoints and a resumed run draws the same tuples.

    Args:
        seed: base seed of the generator.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = seed
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def _next_generator(self) -> torch.Generator:
        generator = torch.Generator().manual_seed(self.seed + int(self.calls))
        self.calls += 1
        return generator

    def _pick(self, mask: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Per row, a uniformly random True column and whether any exists."""
        noise = torch.rand(mask.shape, generator=generator, dtype=torch.float64)
        noise = noise.to(mask.device).masked_fill(~mask, -1.0)
        return noise.argmax(dim=1), mask.any(dim=1)

    def select_triplets(
        self, dist: Tensor, pos: Tensor, neg: Tensor, margin: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        generator = self._next_generator()
        p, has_p = self._pick(pos, generator)
        n, has_n = self._pick(neg, generator)
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
        generator = self._next_generator()
        p, has_p = self._pick(pos, generator)
        n1, has_n1 = self._pick(neg1, generator)
        n2, has_n2 = self._pick(neg2, generator)
        keep = (has_p & has_n1 & has_n2).nonzero().flatten()
        return keep, p[keep], n1[keep], n2[keep]

    def select_pairs(
        self, dist: Tensor, pos: Tensor, neg: Tensor, once: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        generator = self._next_generator()
        p, has_p = self._pick(pos, generator)
        n, has_n = self._pick(neg, generator)
        rp, rn = has_p.nonzero().flatten(), has_n.nonzero().flatten()
        similar = torch.cat(
            [torch.ones_like(rp, dtype=torch.bool), torch.zeros_like(rn, dtype=torch.bool)]
        )
        return torch.cat([rp, rn]), torch.cat([p[rp], n[rn]]), similar
