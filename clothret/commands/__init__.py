"""Implementations of the ``clothret`` subcommands (the argument parsing is in ``clothret.cli``)."""
