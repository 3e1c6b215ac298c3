"""Lightning's stock callbacks, registered by name with run-directory aware defaults."""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint

from clothret.registry import register


class Checkpoint(ModelCheckpoint):
    """ModelCheckpoint whose ``last.ckpt`` always holds the latest epoch.

    Lightning's ModelCheckpoint (2.6) rewrites ``last.ckpt`` only in an epoch that also saved a
    top-k checkpoint, so with a monitored metric that stopped improving, resuming from
    ``last.ckpt`` would silently go back to the best epoch.
    """

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._save_last_if_missed(trainer, at_train_epoch_end=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._save_last_if_missed(trainer, at_train_epoch_end=True)

    def _save_last_if_missed(self, trainer: pl.Trainer, at_train_epoch_end: bool) -> None:
        if (
            self.save_last
            and self._should_save_on_train_epoch_end(trainer) == at_train_epoch_end
            and not self._should_skip_saving_checkpoint(trainer)  # also: saved at this step
        ):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


@register("callback", "checkpoint")
def checkpoint(
    monitor: str | None = "val/hit@1",
    mode: str = "max",
    save_last: bool = True,
    save_top_k: int = 1,
    every_n_epochs: int = 1,
    filename: str = "epoch{epoch:03d}",
    run_dir: str | None = None,
) -> ModelCheckpoint:
    """Keep the best checkpoint by ``monitor`` and ``last.ckpt`` in ``<run_dir>/checkpoints``."""
    return Checkpoint(
        dirpath=f"{run_dir}/checkpoints" if run_dir else None,
        monitor=monitor,
        mode=mode,
        save_last=save_last,
        save_top_k=save_top_k if monitor else 1,
        every_n_epochs=every_n_epochs,
        filename=filename,
        auto_insert_metric_name=False,
    )


@register("callback", "lr_monitor")
def lr_monitor(logging_interval: str | None = "epoch") -> LearningRateMonitor:
    """Log each parameter group's learning rate as ``lr-*``."""
    return LearningRateMonitor(logging_interval=logging_interval)


@register("callback", "early_stopping")
def early_stopping(
    monitor: str = "val/hit@1", mode: str = "max", patience: int = 5, min_delta: float = 0.0
) -> EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` validations."""
    return EarlyStopping(monitor=monitor, mode=mode, patience=patience, min_delta=min_delta)
