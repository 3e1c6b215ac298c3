"""random sampler: a permutation per epoch in full batches."""

from __future__ import annotations

from clothret.datamodules.samplers.random_sampler import RandomSampler

from .conftest import batches_of


def test_permutation_in_full_batches() -> None:
    sampler = RandomSampler(num_samples=23, batch_size=5, seed=0)
    batches = batches_of(sampler)
    flat = [i for b in batches for i in b]
    assert len(batches) == 4 and len(set(flat)) == 20 and set(flat) <= set(range(23))
    sampler.set_epoch(1)
    assert batches_of(sampler) != batches
    assert batches_of(RandomSampler(23, 5, seed=0)) == batches
