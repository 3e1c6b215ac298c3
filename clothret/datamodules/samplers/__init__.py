"""Registered samplers (``sampler`` group), all DDP-aware; see :mod:`.base`."""

from clothret.datamodules.samplers import (  # noqa: F401  (each import registers its samplers)
    class_balanced,
    domain_pairs,
    pk,
    quadruplet,
    random_sampler,
)
from clothret.datamodules.samplers.base import EpochSampler, resolve_world

__all__ = ["EpochSampler", "resolve_world"]
