"""Per-step metrics: a JSONL file (the record), TensorBoard optionally (for watching).

On resume the file is cut back to the steps the restored state had finished,
so a killed-and-resumed run ends with exactly the rows of an uninterrupted one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.errors import TaxolabError


class MetricsLog:
    """Append-only step metrics on rank 0."""

    def __init__(self, path: Path, *, resume_after_step: int, tensorboard_dir: Path | None = None) -> None:
        self.path = Path(path)
        kept = [row for row in _read(self.path) if row.get("step", 0) <= resume_after_step]
        fsio.write_jsonl(self.path, kept)
        self._handle = self.path.open("a", encoding="utf-8")
        self._tb = _tensorboard(tensorboard_dir) if tensorboard_dir else None

    def log(self, row: dict[str, Any]) -> None:
        with fsio.writing(self.path):
            self._handle.write(json.dumps(row) + "\n")
            self._handle.flush()
        if self._tb is not None:
            for key, value in row.items():
                if isinstance(value, int | float) and key != "step":
                    self._tb.add_scalar(f"train/{key}", value, row["step"])

    def close(self) -> None:
        self._handle.close()
        if self._tb is not None:
            self._tb.close()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    return _read(Path(path))


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill
            break
    return rows


def _tensorboard(log_dir: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise TaxolabError("--tensorboard needs the `tensorboard` package: pip install tensorboard") from None
    return SummaryWriter(str(log_dir))
