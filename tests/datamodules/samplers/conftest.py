"""Label arrays for sampler tests: items of varied sizes, categories and domains."""

from __future__ import annotations

import numpy as np


def labels(
    sizes: list[int], categories: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """item id, category id and domain of every index; item ``i`` has ``sizes[i]`` images and
    category ``i % categories``; domains alternate within an item (consumer first). The indices
    are shuffled so that an item's images are not contiguous."""
    items = np.repeat(np.arange(len(sizes)), sizes)
    domains = np.concatenate([np.arange(s) % 2 == 0 for s in sizes]).astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(items))
    items, domains = items[order], domains[order]
    return items, items % categories, domains


def batches_of(sampler) -> list[list[int]]:
    """What a DataLoader would batch: the sampler's stream cut into batch_size pieces."""
    stream = list(sampler)
    size = sampler.batch_size
    assert len(stream) == len(sampler) and len(stream) % size == 0
    return [stream[i : i + size] for i in range(0, len(stream), size)]
