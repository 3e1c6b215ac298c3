"""Miner base: label masks and distances shared by every miner; subclasses only pick tuples.

A miner gets the embeddings of a (possibly gathered, cross-device) batch and returns index
tensors into that batch:

- ``triplets``: ``(a, p, n)``, ``label[p] == label[a]``, ``p != a``, ``label[n] != label[a]``;
- ``quadruplets``: ``(a, p, n1, n2)``: ``p`` same item; ``n1`` same (known) category, other item;
  ``n2`` other (known) category, other item; the anchor's own item is never a negative;
- ``pairs``: ``(i, j, similar)`` with ``similar = label[i] == label[j]``.

``anchors`` restricts which rows act as anchors (the local slice when mining across devices, the
consumer images for consumer-to-shop training) and ``candidates`` (a bool mask) which rows may be
positives or negatives. Category −1 means unknown and matches no category. Mining runs without
gradient; the loss indexes the embeddings again with the returned indices.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

Triplets = tuple[Tensor, Tensor, Tensor]
Quadruplets = tuple[Tensor, Tensor, Tensor, Tensor]
Pairs = tuple[Tensor, Tensor, Tensor]


def distances(embeddings: Tensor, anchors: Tensor) -> Tensor:
    """Euclidean distances ``[A, N]`` from the anchor rows to every row (exact, no mm trick)."""
    x = embeddings.detach().float()  # cdist lacks half-precision kernels on some devices
    return torch.cdist(x[anchors], x, compute_mode="donot_use_mm_for_euclid_dist")


def _rows(n: int, anchors: Tensor | None, device: torch.device) -> Tensor:
    return torch.arange(n, device=device) if anchors is None else anchors.to(device).long()


def _not_self(anchors: Tensor, n: int, candidates: Tensor | None) -> Tensor:
    """``[A, N]`` mask of usable partner rows: not the anchor itself, and a candidate."""
    mask = anchors[:, None] != torch.arange(n, device=anchors.device)[None, :]
    return mask if candidates is None else mask & candidates.to(mask.device)[None, :].bool()


class Miner(nn.Module):
    """Base class of the ``miner`` group; subclasses override the ``select_*`` hooks."""

    # Explicit, so the registry reads "no params" instead of nn.Module's ``*args, **kwargs``.
    def __init__(self) -> None:
        super().__init__()

    def triplets(
        self,
        embeddings: Tensor,
        labels: Tensor,
        anchors: Tensor | None = None,
        candidates: Tensor | None = None,
        margin: float = 0.2,
    ) -> Triplets:
        """Mine ``(a, p, n)`` index tensors; ``margin`` is the loss's (semi-hard uses it)."""
        with torch.no_grad():
            labels = labels.to(embeddings.device)
            rows = _rows(len(labels), anchors, embeddings.device)
            usable = _not_self(rows, len(labels), candidates)
            same = labels[rows][:, None] == labels[None, :]
            dist = distances(embeddings, rows)
            r, p, n = self.select_triplets(dist, same & usable, ~same & usable, margin)
            return rows[r], p, n

    def quadruplets(
        self,
        embeddings: Tensor,
        item_ids: Tensor,
        category_ids: Tensor,
        anchors: Tensor | None = None,
        candidates: Tensor | None = None,
        margin_id: float = 0.2,
        margin_class: float = 0.4,
    ) -> Quadruplets:
        """Mine ``(a, p, n1, n2)`` index tensors; margins are the loss's (semi-hard uses them)."""
        with torch.no_grad():
            item_ids = item_ids.to(embeddings.device)
            category_ids = category_ids.to(embeddings.device)
            rows = _rows(len(item_ids), anchors, embeddings.device)
            usable = _not_self(rows, len(item_ids), candidates)
            same_item = item_ids[rows][:, None] == item_ids[None, :]
            cat_a, cat = category_ids[rows][:, None], category_ids[None, :]
            known = (cat_a >= 0) & (cat >= 0)
            pos = same_item & usable
            neg1 = ~same_item & usable & known & (cat_a == cat)
            neg2 = ~same_item & usable & known & (cat_a != cat)
            dist = distances(embeddings, rows)
            r, p, n1, n2 = self.select_quadruplets(dist, pos, neg1, neg2, margin_id, margin_class)
            return rows[r], p, n1, n2

    def pairs(
        self,
        embeddings: Tensor,
        labels: Tensor,
        anchors: Tensor | None = None,
        candidates: Tensor | None = None,
    ) -> Pairs:
        """Mine ``(i, j, similar)`` pairs with ``i`` an anchor."""
        with torch.no_grad():
            labels = labels.to(embeddings.device)
            n = len(labels)
            rows = _rows(n, anchors, embeddings.device)
            usable = _not_self(rows, n, candidates)
            # An unordered pair of two anchors is "once" only from its lower-index anchor.
            is_anchor = torch.zeros(n, dtype=torch.bool, device=rows.device)
            is_anchor[rows] = True
            once = ~is_anchor[None, :] | (rows[:, None] < torch.arange(n, device=rows.device))
            same = labels[rows][:, None] == labels[None, :]
            dist = distances(embeddings, rows)
            r, j, similar = self.select_pairs(dist, same & usable, ~same & usable, once)
            return rows[r], j, similar

    def select_triplets(
        self, dist: Tensor, pos: Tensor, neg: Tensor, margin: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Pick ``(anchor row, p, n)`` from ``[A, N]`` distances and positive/negative masks."""
        raise NotImplementedError

    def select_quadruplets(
        self,
        dist: Tensor,
        pos: Tensor,
        neg1: Tensor,
        neg2: Tensor,
        margin_id: float,
        margin_class: float,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Pick ``(anchor row, p, n1, n2)`` from ``[A, N]`` distances and masks."""
        raise NotImplementedError

    def select_pairs(
        self, dist: Tensor, pos: Tensor, neg: Tensor, once: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Pick ``(anchor row, j, similar)``; ``once`` marks one orientation of each pair."""
        raise NotImplementedError


def hardest(dist: Tensor, mask: Tensor, largest: bool) -> tuple[Tensor, Tensor]:
    """Per row, the column of the largest (or smallest) masked distance and whether any exists."""
    fill = float("-inf") if largest else float("inf")
    masked = dist.masked_fill(~mask, fill)
    idx = masked.argmax(dim=1) if largest else masked.argmin(dim=1)
    return idx, mask.any(dim=1)


def empty_index(device: torch.device) -> Tensor:
    return torch.zeros(0, dtype=torch.long, device=device)
