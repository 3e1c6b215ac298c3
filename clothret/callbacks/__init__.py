"""Callbacks registered in the ``callback`` group."""

from clothret.callbacks import (  # noqa: F401
    freeze,
    preemption,
    retrieval_examples,
    retrieval_metrics,
    standard,
)
