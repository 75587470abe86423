"""Progress per job (leaf x pipeline): seed rows done with ETA, rows made per second, teacher tokens/s."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.progress import Progress, TaskID, TextColumn

from taxolab.console import progress


@dataclass
class JobMeter:
    """Counters for one job, updated by the executor and read by the display and the manifest."""

    total_seeds: int
    seeds_done: int = 0
    rows: int = 0
    completion_tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    resumed_seeds: int = 0

    def rates(self) -> tuple[float, float]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return self.rows / elapsed, self.completion_tokens / elapsed


class Reporter:
    """A rich progress display (stderr) driven by :class:`JobMeter`s; silent when disabled.

    When stderr is not a terminal it prints a plain line per job at intervals instead
    (``job: 3/15 seeds (20%), 0.1/s, ETA 0:02:00, 45 rows, 1.2 rows/s 35 tok/s``); see
    :func:`taxolab.console.progress`.
    """

    def __init__(self, enabled: bool = True) -> None:
        self._progress: Progress = progress(
            TextColumn("{task.fields[rows]} rows"),
            TextColumn("{task.fields[rate]}"),
            disable=not enabled,
            unit="seeds",
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Reporter:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def add(self, key: str, meter: JobMeter) -> None:
        self._tasks[key] = self._progress.add_task(
            key, total=meter.total_seeds, completed=meter.seeds_done, rows=meter.rows, rate=""
        )

    def update(self, key: str, meter: JobMeter) -> None:
        rows_s, tokens_s = meter.rates()
        self._progress.update(
            self._tasks[key],
            completed=meter.seeds_done,
            rows=meter.rows,
            rate=f"{rows_s:.1f} rows/s {tokens_s:.0f} tok/s",
        )
