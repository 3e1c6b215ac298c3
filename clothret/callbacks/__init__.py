"""Callbacks registered in the ``callback`` group."""

from clothret.callbacks import freeze, retrieval_metrics, standard  # noqa: F401
