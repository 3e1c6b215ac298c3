"""Experiment loggers registered in the ``logger`` group (several may be used at once)."""

from clothret.loggers import csv, tensorboard, wandb  # noqa: F401
