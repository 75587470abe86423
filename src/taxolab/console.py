"""The terminal: one rich console for humans on stderr, and progress bars with ETA.

Results a script reads go to stdout (``--json``); everything for humans goes to
stderr so that piping stdout stays clean. When stderr is not a terminal (CI,
``nohup``, a log file) a live bar would print nothing until the end, so
:func:`progress` prints one plain line per task every ``TAXOLAB_PROGRESS_INTERVAL``
seconds (default 10) and once at the end instead::

    generate chickadee: 12/40 seeds (30%), 1.3/s, ETA 0:00:21, 180 rows
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PIPE_WIDTH = 1000
"""Columns a console renders to when its stream is not a terminal (``| cat``, a file) and ``COLUMNS`` is unset:
wide enough that tables and paths are never cut or wrapped at rich's default of 80."""


class _Console(Console):
    """A rich console that does not truncate to 80 columns when its output is piped or redirected."""

    def _size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self.is_terminal or self._width is not None or "COLUMNS" in self._environ:
            return size  # type: ignore[no-any-return]
        return ConsoleDimensions(PIPE_WIDTH, size.height)

    size = property(_size, Console.size.fset)  # type: ignore[attr-defined]


stderr: Console = _Console(stderr=True, highlight=False)
stdout: Console = _Console(highlight=False, soft_wrap=True)


def heading(console: Console, text: str) -> None:
    """A section heading: rich's full-width rule on a terminal, one plain ``── text ──`` line elsewhere."""
    if console.is_terminal:
        console.rule(text)
    else:
        console.print(f"── {text} ──")


DEFAULT_INTERVAL = 10.0
"""Seconds between plain progress lines when stderr is not a terminal (``TAXOLAB_PROGRESS_INTERVAL``)."""


def progress(
    *extra_columns: ProgressColumn,
    transient: bool = False,
    disable: bool = False,
    unit: str = "",
    console: Console | None = None,
    interval: float | None = None,
) -> Progress:
    """A progress display with count, rate-friendly extra columns, elapsed time and ETA.

    On a terminal: rich's live bar. Elsewhere (``console.is_terminal`` false): a
    :class:`LogProgress` printing ``done/total unit (pct), rate/s, ETA`` plus the
    extra columns' text every ``interval`` seconds (default: ``TAXOLAB_PROGRESS_INTERVAL``
    or 10) and at the end. ``disable`` shows nothing either way.
    """
    console = console or stderr
    if not disable and not console.is_terminal:
        return LogProgress(*extra_columns, console=console, unit=unit, interval=interval)
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=disable,
    )


class LogProgress(Progress):
    """rich's task bookkeeping without a live display: plain, timestamp-free lines for logs.

    Every ``interval`` seconds each unfinished task gets one line, and every task gets
    a last line when the display stops, so a log shows the work is alive, how far it is
    and when it should end. The rate is measured since the task was added (a resumed
    task's earlier work does not inflate it).
    """

    def __init__(
        self, *extra_columns: ProgressColumn, console: Console, unit: str = "", interval: float | None = None
    ) -> None:
        super().__init__(*extra_columns, console=console, disable=True)
        self.extra_columns = extra_columns
        self.unit = unit
        self.interval = interval if interval is not None else _interval_from_env()
        self._started: dict[TaskID, tuple[float, float]] = {}
        self._ended: set[TaskID] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_task(self, description: str, start: bool = True, total: float | None = 100.0, completed: int = 0,
                 visible: bool = True, **fields: Any) -> TaskID:  # fmt: skip
        task_id = super().add_task(description, start, total, completed, visible, **fields)
        self._started[task_id] = (float(completed), time.monotonic())
        return task_id

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._tick, name="taxolab-progress-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.report(final=True)

    def report(self, final: bool = False) -> None:
        """Print one line per task not yet reported as ended (all of them when ``final``)."""
        with self._lock:
            tasks = [t for t in self.tasks if t.visible and t.id not in self._ended]
        for task in tasks:
            if final or task.finished:
                self._ended.add(task.id)
            self.console.print(self.line(task.id), markup=False, highlight=False, soft_wrap=True)

    def line(self, task_id: TaskID) -> str:
        """``description: done/total unit (pct%), rate/s, ETA h:mm:ss, extra columns``."""
        with self._lock:
            task = self._tasks[task_id]
        done = task.completed
        unit = f" {self.unit}" if self.unit else ""
        parts = [f"{task.description}: {_number(done)}"]
        if task.total:
            parts[0] += f"/{_number(task.total)}{unit} ({100 * done / task.total:.0f}%)"
        else:
            parts[0] += unit
        base, since = self._started.get(task_id, (0.0, time.monotonic()))
        # rich stamps the moment a task reaches its total; a line printed later still says when it ended.
        finished_at = task.finished_time
        elapsed = finished_at if finished_at is not None else time.monotonic() - since
        rate = (done - base) / elapsed if elapsed > 0 else 0.0
        parts.append(f"{rate:.{1 if rate < 100 else 0}f}/s")
        if task.finished or (task.total and done >= task.total):
            parts.append(f"done in {_clock(elapsed)}")
        elif task.total and rate > 0:
            parts.append(f"ETA {_clock((task.total - done) / rate)}")
        else:
            parts.append("ETA ?")
        extras = [" ".join(str(column(task)).split()) for column in self.extra_columns]
        return ", ".join(parts + [text for text in extras if text])

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.report()


def _interval_from_env() -> float:
    raw = os.environ.get("TAXOLAB_PROGRESS_INTERVAL", "")
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


def _clock(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(max(seconds, 0.0))))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
