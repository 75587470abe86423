"""One file per finished batch, written atomically: a batch is either wholly done or not at all.

A rerun loads finished batches instead of regenerating them, and the final
per-leaf file is assembled in batch order, so an interrupted-then-resumed run
holds the same rows as an uninterrupted one and never a row twice.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxolab import fsio


@dataclass
class BatchResult:
    rows: list[dict[str, Any]]
    dropped: Counter[str] = field(default_factory=Counter)
    seeds: int = 0
    seconds: float = 0.0
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CheckpointStore:
    folder: Path

    def _file(self, index: int) -> Path:
        return self.folder / f"batch-{index:06d}.json"

    def done(self, index: int) -> bool:
        return self._file(index).exists()

    def save(self, index: int, result: BatchResult) -> None:
        fsio.write_json(
            self._file(index),
            {
                "rows": result.rows,
                "dropped": dict(result.dropped),
                "seeds": result.seeds,
                "seconds": result.seconds,
                "rejected": result.rejected,
            },
            indent=0,
        )

    def load(self, index: int) -> BatchResult:
        data = json.loads(self._file(index).read_text(encoding="utf-8"))
        return BatchResult(
            rows=data["rows"],
            dropped=Counter(data["dropped"]),
            seeds=data["seeds"],
            seconds=data.get("seconds", 0.0),
            rejected=data.get("rejected", []),
        )
