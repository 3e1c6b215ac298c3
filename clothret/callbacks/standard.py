"""Lightning's stock callbacks, registered by name with run-directory aware defaults."""

from __future__ import annotations

from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint

from clothret.registry import register


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
    return ModelCheckpoint(
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
