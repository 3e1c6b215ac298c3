"""Shared steps of the identity samplers: per-item groups of K images, spread and packed."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np


def indices_by_key(keys: Sequence[int] | np.ndarray) -> dict[int, np.ndarray]:
    """key → dataset indices with that key, in index order (keys sorted)."""
    keys = np.asarray(keys)
    order = np.argsort(keys, kind="stable")
    uniques, starts = np.unique(keys[order], return_index=True)
    return {int(k): part for k, part in zip(uniques, np.split(order, starts[1:]), strict=True)}


def fill(part: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``part`` cut or completed to ``size`` (completion samples ``part`` with replacement)."""
    if len(part) >= size:
        return part[:size]
    return np.concatenate([part, rng.choice(part, size - len(part), replace=True)])


def split_groups(indices: np.ndarray, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle ``indices`` into ceil(n/k) near-equal groups, each completed to ``k``.

    Every index lands in exactly one group, so groups never share an image; an item with fewer
    than ``k`` images repeats its own images within its one group.
    """
    parts = np.array_split(rng.permutation(indices), max(1, math.ceil(len(indices) / k)))
    return [fill(part, k, rng) for part in parts]


def spread_order(owner_counts: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """An order of units that spreads each owner's units evenly over the sequence.

    Unit ``j`` of an owner with ``m`` units gets the position key ``(j + u) / m``, ``u`` uniform:
    owners with many units are spread out instead of crowding the end, so consecutive units
    rarely share an owner and few are dropped by :func:`pack_distinct`.
    """
    keys = [(j + rng.random()) / m for m in owner_counts for j in range(m)]
    return np.argsort(np.asarray(keys), kind="stable")


def pack_distinct(keys: Sequence[int], size: int) -> list[list[int]]:
    """Cut a sequence of units into consecutive packs of ``size`` units with distinct keys.

    A unit whose key is already in the pack being filled waits for the next pack; units that
    cannot fill a last pack are dropped. Returns the positions of the units in each pack.
    """
    pending, packs = deque(range(len(keys))), []
    while len(pending) >= size:
        pack, seen, deferred = [], set(), []
        while pending and len(pack) < size:
            unit = pending.popleft()
            if keys[unit] in seen:
                deferred.append(unit)
            else:
                pack.append(unit)
                seen.add(keys[unit])
        pending.extendleft(reversed(deferred))
        if len(pack) < size:
            break
        packs.append(pack)
    return packs
