"""The two ways loading a data set fails: the files are missing, or a file is damaged."""

from __future__ import annotations

__all__ = ["DatasetNotFoundError", "CorruptFileError"]


class DatasetNotFoundError(FileNotFoundError):
    """No local copy and no download: the message says which files to put where."""


class CorruptFileError(ValueError):
    """A data file that exists but is damaged or is not the expected file; the message names it."""
