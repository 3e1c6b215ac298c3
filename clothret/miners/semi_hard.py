"""``semi_hard`` miner: per positive pair, the closest negative farther than the positive."""

from __future__ import annotations

from torch import Tensor

from clothret.errors import ConfigError
from clothret.miners.base import Miner, hardest
from clothret.registry import register


def semi_hard(dist: Tensor, rows: Tensor, ref: Tensor, mask: Tensor, margin: float) -> Tensor:
    """For each ``(row, ref distance)``, the closest masked column with
    ``ref < dist < ref + margin``, or −1 where there is none."""
    d = dist[rows]
    window = mask[rows] & (d > ref[:, None]) & (d < ref[:, None] + margin)
    idx, found = hardest(d, window, largest=False)
    return idx.masked_fill(~found, -1)


@register("miner", "semi_hard")
class SemiHardMiner(Miner):
    """Semi-hard mining (FaceNet, Schroff et al. 2015).

    Triplets: for every positive pair ``(a, p)``, the closest negative ``n`` with
    ``d(a,p) < d(a,n) < d(a,p) + margin``. Quadruplets: for every ``(a, p)``, the closest
    semi-hard ``n1`` (window ``margin_id`` beyond ``d(a,p)``), then the closest ``n2`` with
    ``d(a,n1) < d(a,n2) < d(a,n1) + margin_class``. Tuples without a semi-hard partner are
    skipped. Pairs are not defined for semi-hard mining.

    Args:
        margin: window width for triplets and for ``n1``; ``None`` uses the loss's margin.
        margin_class: window width for ``n2``; ``None`` uses the loss's ``margin_class``.
    """

    def __init__(self, margin: float | None = None, margin_class: float | None = None) -> None:
        super().__init__()
        self.margin = margin
        self.margin_class = margin_class

    def select_triplets(
        self, dist: Tensor, pos: Tensor, neg: Tensor, margin: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        margin = margin if self.margin is None else self.margin
        r, p = pos.nonzero(as_tuple=True)
        n = semi_hard(dist, r, dist[r, p], neg, margin)
        keep = n >= 0
        return r[keep], p[keep], n[keep]

    def select_quadruplets(
        self,
        dist: Tensor,
        pos: Tensor,
        neg1: Tensor,
        neg2: Tensor,
        margin_id: float,
        margin_class: float,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        margin_id = margin_id if self.margin is None else self.margin
        margin_class = margin_class if self.margin_class is None else self.margin_class
        r, p = pos.nonzero(as_tuple=True)
        n1 = semi_hard(dist, r, dist[r, p], neg1, margin_id)
        keep = n1 >= 0
        r, p, n1 = r[keep], p[keep], n1[keep]
        n2 = semi_hard(dist, r, dist[r, n1], neg2, margin_class)
        keep = n2 >= 0
        return r[keep], p[keep], n1[keep], n2[keep]

    def select_pairs(
        self, dist: Tensor, pos: Tensor, neg: Tensor, once: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        raise ConfigError(
            "The semi_hard miner is defined for triplets and quadruplets, not pairs; "
            "use miner 'all', 'batch_hard' or 'random' for a pair loss."
        )
