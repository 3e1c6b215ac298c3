"""Preemption-safe training: a final ``last.ckpt`` on SIGTERM, and random draws a resume replays.

Lightning (2.6) already turns SIGTERM into an orderly stop: its signal connector sets
``trainer.received_sigterm`` (and forwards the signal to DDP child processes), and the loops raise
``SIGTERMException`` at the next batch boundary, which reaches callbacks through ``on_exception``.
It saves nothing itself (only SLURM auto-requeue on SIGUSR1 does); this callback writes the final
checkpoint there, through the Trainer's checkpoint IO (atomic with ``AtomicCheckpointIO``).

A resumed run trains exactly like an uninterrupted one only if every random draw after the
checkpoint is the same. Samplers plan each epoch from ``(seed, epoch)``; this callback re-seeds
python, numpy and torch from ``(seed, epoch, batch, rank)`` at the start of each epoch and after
each training batch, so the draws of a batch (augmentations in the main process, dropout) depend
on where training is, not on what ran before. The training DataLoader gets its own generator,
seeded per epoch: creating a DataLoader iterator draws the workers' base seed, which would
otherwise come from the global stream at a point that differs between a fresh epoch (iterator
made after ``on_train_epoch_start``) and a resumed one (made before). Workers keep their own
streams, so with ``num_workers > 0`` a resumed run is equivalent in distribution but not
bit-identical.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.trainer.states import TrainerFn
from pytorch_lightning.utilities.combined_loader import CombinedLoader
from pytorch_lightning.utilities.exceptions import SIGTERMException
from torch.utils.data import DataLoader

from clothret.registry import register
from clothret.utils.progress import resume_position

log = logging.getLogger(__name__)

LAST = "last.ckpt"


# First entry of the SeedSequence keys: the global streams and the DataLoader generator differ.
GLOBAL, LOADER = 0, 1


def position_seed(seed: int, *position: int) -> int:
    """A 64-bit seed mixing ``seed`` and non-negative ints (numpy's SeedSequence)."""
    low, high = np.random.SeedSequence([seed, *position]).generate_state(2)
    return int(high) << 32 | int(low)


def seed_position(seed: int, epoch: int, batch: int, rank: int) -> None:
    """Seed python, numpy and torch (all devices) from ``(seed, epoch, batch, rank)``."""
    value = position_seed(seed, GLOBAL, epoch, batch, rank)
    random.seed(value)
    np.random.seed(value % 2**32)
    # torch.manual_seed also visits every other backend (~0.1 ms); CPU and CUDA are what run.
    torch.default_generator.manual_seed(value)
    if torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(value)


def train_loaders(trainer: pl.Trainer) -> list[DataLoader]:
    """The training DataLoaders of ``trainer`` (none before ``fit`` has requested them)."""
    loaders = trainer.train_dataloader
    if loaders is None:
        return []
    return [dl for dl in CombinedLoader(loaders).flattened if isinstance(dl, DataLoader)]


@register("callback", "preemption")
class Preemption(pl.Callback):
    """Write ``last.ckpt`` when SIGTERM stops ``fit``; key random draws to the training position.

    Args:
        seed: base of the per-position seeds (None: the run's seed, which
            ``seed_everything`` exports as ``PL_GLOBAL_SEED``; 0 without one).
        run_dir: runtime; the final checkpoint goes to ``<run_dir>/checkpoints/last.ckpt`` unless
            a ModelCheckpoint callback names another folder.
    """

    def __init__(self, seed: int | None = None, run_dir: str | None = None) -> None:
        self.seed = seed
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.saved: Path | None = None

    def _seed(self) -> int:
        if self.seed is not None:
            return int(self.seed)
        return int(os.environ.get("PL_GLOBAL_SEED", 0))

    def _reseed(self, trainer: pl.Trainer, epoch: int, batch: int) -> None:
        seed_position(self._seed(), epoch, batch, trainer.global_rank)

    # the random streams ------------------------------------------------------------------------
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for loader in train_loaders(trainer):
            if loader.generator is None:  # a constructor argument torch reads at each iter()
                loader.generator = torch.Generator()
        epoch, done = resume_position(trainer)
        if done:  # a mid-epoch restart gets no on_train_epoch_start
            self._reseed(trainer, epoch, done)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch, rank = trainer.current_epoch, trainer.global_rank
        for loader in train_loaders(trainer):
            if loader.generator is not None:
                loader.generator.manual_seed(position_seed(self._seed(), LOADER, epoch, rank))
        self._reseed(trainer, epoch, 0)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: object,
        batch: object,
        batch_idx: int,
    ) -> None:
        # Seeds the fetch (and augmentation) of the next batch and its step.
        self._reseed(trainer, trainer.current_epoch, batch_idx + 1)

    # the final checkpoint ----------------------------------------------------------------------
    def checkpoint_path(self, trainer: pl.Trainer) -> Path:
        """Where the final checkpoint goes: beside the ModelCheckpoint's ``last.ckpt``."""
        callback = trainer.checkpoint_callback
        if isinstance(callback, ModelCheckpoint) and callback.dirpath:
            return Path(callback.dirpath) / LAST
        root = self.run_dir or Path(trainer.default_root_dir)
        return root / "checkpoints" / LAST

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, SIGTERMException) or trainer.state.fn != TrainerFn.FITTING:
            return
        path = self.checkpoint_path(trainer)
        # Every process calls save_checkpoint (it ends in a barrier); process 0 writes the file.
        trainer.save_checkpoint(path)
        self.saved = path
        if trainer.is_global_zero:
            log.warning("SIGTERM: saved %s; resume with ckpt_path=last", path)
