"""Where a (possibly resumed) ``fit`` continues, read from Lightning's restored progress."""

from __future__ import annotations

import pytorch_lightning as pl


def resume_position(trainer: pl.Trainer) -> tuple[int, int]:
    """``(epoch, batches of it already trained)`` where ``fit`` continues; ``(0, 0)`` when fresh.

    Read from the fit loop's progress counters, which Lightning restores from the checkpoint
    before the training dataloader is requested: an epoch counts as started but not processed
    only when the checkpoint was written mid-epoch (e.g. on SIGTERM).
    """
    epochs = trainer.fit_loop.epoch_progress.current
    done = 0
    if epochs.started > epochs.processed:
        done = int(trainer.fit_loop.epoch_loop.batch_progress.current.completed)
    return int(epochs.processed), done
