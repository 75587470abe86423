"""The terminal: one rich console for humans on stderr, and progress bars with ETA.

Results a script reads go to stdout (``--json``); everything for humans goes to
stderr so that piping stdout stays clean.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

stderr = Console(stderr=True, highlight=False)
stdout = Console(highlight=False, soft_wrap=True)


def progress(*extra_columns: TextColumn, transient: bool = False, disable: bool = False) -> Progress:
    """A progress display with count, rate-friendly extra columns, elapsed time and ETA."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr,
        transient=transient,
        disable=disable,
    )
