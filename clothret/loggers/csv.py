"""CSV metrics logger: ``<run_dir>/csv/metrics.csv``, no extra dependency."""

from __future__ import annotations

from pytorch_lightning.loggers import CSVLogger

from clothret.registry import register


@register("logger", "csv")
def csv_logger(run_dir: str = ".", flush_logs_every_n_steps: int = 50) -> CSVLogger:
    """Write every logged metric to a CSV file in the run directory."""
    return CSVLogger(
        save_dir=run_dir, name="csv", version="", flush_logs_every_n_steps=flush_logs_every_n_steps
    )
