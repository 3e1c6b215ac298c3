"""Exceptions for mistakes a user can fix; the CLI prints them as one line and exits with 2."""

from __future__ import annotations


class ClothretError(Exception):
    """Base class of every user-facing error raised by clothret."""


class ConfigError(ClothretError, ValueError):
    """A config key, value or override is invalid."""


class UnknownNameError(ClothretError, KeyError):
    """A component name is not registered in its group."""

    def __str__(self) -> str:  # KeyError would quote the message.
        return str(self.args[0]) if self.args else ""


class DataError(ClothretError, ValueError):
    """A dataset, manifest or image file cannot be used as given."""
