"""TensorBoard logger writing event files to ``<run_dir>/tensorboard``."""

from __future__ import annotations

from pytorch_lightning.loggers import TensorBoardLogger

from clothret.registry import register


@register("logger", "tensorboard")
def tensorboard_logger(run_dir: str = ".", log_graph: bool = False) -> TensorBoardLogger:
    """Log metrics (and optionally the graph) for TensorBoard."""
    return TensorBoardLogger(save_dir=run_dir, name="tensorboard", version="", log_graph=log_graph)
