"""Callbacks registered in the ``callback`` group."""

from clothret.callbacks import freeze, retrieval_examples, retrieval_metrics, standard  # noqa: F401
