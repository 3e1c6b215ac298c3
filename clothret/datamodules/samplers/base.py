"""DDP-aware epoch samplers: every rank plans the same global batches, then takes its share.

Each epoch a sampler plans a list of whole batches from ``(seed, epoch)`` alone, so every process
computes the same list; the list is cut to a multiple of the world size and rank ``r`` takes
batches ``r, r + W, r + 2W, ...``: disjoint shares of equal length. The sampler yields the indices
of its batches one after another, and the DataLoader (``batch_size=sampler.batch_size``,
``drop_last=True``) cuts them back into the same batches.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from clothret.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def resolve_world(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """World size and rank: given explicitly, else from torch.distributed, else (1, 0)."""
    initialised = dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = dist.get_world_size() if initialised else 1
    if rank is None:
        rank = dist.get_rank() if initialised else 0
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ConfigError(f"Invalid sampler rank {rank} for world size {num_replicas}.")
    return int(num_replicas), int(rank)


@functools.cache
def warn_once(message: str) -> None:
    """Log ``message`` once per process."""
    log.warning(message)


# Subclassing DistributedSampler (without its __init__, which needs a dataset and a process group)
# is what makes Lightning keep this sampler under DDP instead of replacing it, and call its
# set_epoch every epoch, whatever the trainer's use_distributed_sampler setting.
class EpochSampler(DistributedSampler):
    """Base of the registered samplers: subclasses implement :meth:`plan`.

    Args:
        batch_size: images per batch on each process.
        seed: the same on every rank; the epoch's plan depends only on (seed, epoch).
        num_replicas: world size (default: from torch.distributed, else 1).
        rank: this process's rank (default: from torch.distributed, else 0).
    """

    def __init__(
        self,
        batch_size: int,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if int(batch_size) < 1:
            raise ConfigError(f"Sampler batch_size must be positive, got {batch_size}.")
        self.batch_size, self.seed, self.epoch = int(batch_size), int(seed), 0
        self.num_replicas, self.rank = resolve_world(num_replicas, rank)
        self.shuffle, self.drop_last = True, True
        self._cached: tuple[int, list[np.ndarray]] | None = None
        self._skip: tuple[int, int] | None = None

    def plan(self, rng: np.random.Generator) -> list[np.ndarray]:
        """The epoch's batches over all ranks, each an index array of ``batch_size``."""
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def resume(self, epoch: int, batches_done: int = 0) -> None:
        """Start at ``epoch``, skipping its first ``batches_done`` batches (a mid-epoch
        checkpoint); the length stays the whole epoch's, as Lightning counts the skipped ones."""
        self.set_epoch(epoch)
        self._skip = (int(epoch), int(batches_done)) if batches_done else None

    def epoch_batches(self, epoch: int | None = None) -> list[np.ndarray]:
        """All ranks' batches of ``epoch`` (default: the current one), a multiple of the world."""
        epoch = self.epoch if epoch is None else int(epoch)
        if self._cached is None or self._cached[0] != epoch:
            batches = self.plan(np.random.default_rng([self.seed, epoch]))
            keep = len(batches) - len(batches) % self.num_replicas
            self._cached = (epoch, batches[:keep])
        return self._cached[1]

    def rank_batches(self, epoch: int | None = None) -> list[np.ndarray]:
        """This rank's batches of ``epoch``."""
        return self.epoch_batches(epoch)[self.rank :: self.num_replicas]

    def __iter__(self):
        batches = self.rank_batches()
        if self._skip is not None and self._skip[0] == self.epoch:
            batches = batches[self._skip[1] :]
        self._skip = None
        return iter(np.concatenate(batches).tolist() if batches else [])

    def __len__(self) -> int:
        return len(self.rank_batches()) * self.batch_size

    def check_nonempty(self, what: str) -> None:
        """Raise if an epoch has no batch for this rank (too little data for the batch shape)."""
        if not self.rank_batches(0):
            raise DataError(
                f"The training split gives no full batch of {self.batch_size} images ({what}) "
                f"for each of {self.num_replicas} process(es); lower data.batch_size or "
                "the sampler's k, or add training images."
            )
