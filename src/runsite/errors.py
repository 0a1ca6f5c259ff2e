"""Errors runsite raises. The CLI turns every ``RunsiteError`` into one clean line."""

from __future__ import annotations


class RunsiteError(Exception):
    """Base class of every error runsite raises on purpose."""


class InvalidInput(RunsiteError, ValueError):
    """A key, value, name or path given by the user is not acceptable."""


class NotFound(RunsiteError, LookupError):
    """An experiment, run, artifact or model that was asked for does not exist."""


class RunStateError(RunsiteError):
    """An operation that does not fit the run's state (logging after the end, no active run)."""


class StoreFormatError(RunsiteError):
    """A store file that cannot be read (written by a newer runsite, or damaged)."""


class WriteError(RunsiteError, OSError):
    """The store could not be written (disk full, I/O error, read-only file system).

    Nothing of the refused call was recorded; what was recorded before stays readable.
    ``errno`` is the operating system's; the message names the file and what was lost."""

    def __str__(self) -> str:
        return str(self.strerror)


class QueryError(InvalidInput):
    """A ``search_runs`` filter or order-by that cannot be parsed.

    ``position`` is the 0-based offset in the query string where the problem is.
    """

    def __init__(self, message: str, query: str = "", position: int | None = None) -> None:
        self.query = query
        self.position = position
        if position is not None and query:
            caret = " " * position + "^"
            message = f"{message} (at position {position})\n  {query}\n  {caret}"
        super().__init__(message)


class UnsafePickle(RunsiteError):
    """A model pickle imports something its flavor does not need (it could run code when
    loaded); pass ``trust=True`` (CLI: ``--trust-pickle``) to load a file you trust."""
