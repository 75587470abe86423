"""Errors a user can fix, rendered by the CLI as one line without a traceback.

Anything that is *not* a :class:`TaxolabError` is a bug in taxolab: the CLI
shows it as an internal error and prints the traceback only with ``--debug``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class TaxolabError(Exception):
    """A problem the user can fix (bad input, missing file, unreachable server).

    The message must be a single line that says what is wrong and what to do.
    """

    exit_code = 1


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A position in a user's file, 1-based like every editor shows it."""

    path: Path
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return str(self.path)
        if self.col <= 0:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.col}"


class LocatedError(TaxolabError):
    """A problem at a known place in a file, shown as ``path:line:col: message``."""

    def __init__(self, location: SourceLocation, message: str) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}")
