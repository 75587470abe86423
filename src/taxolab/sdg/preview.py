"""Read the first rows of a generated or training file for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taxolab.datarun import DROPPED, DataRun
from taxolab.errors import TaxolabError
from taxolab.fsio import iter_jsonl


def head_rows(path: Path, n: int) -> list[dict[str, Any]]:
    """The first ``n`` JSON rows of a JSONL file (reads no further than needed)."""
    if not path.is_file():
        raise TaxolabError(f"{path}: file not found")
    rows: list[dict[str, Any]] = []
    for _, row in iter_jsonl(path):
        if len(rows) >= n:
            break
        rows.append(row)
    return rows


def dropped_file(path: Path) -> Path:
    """The rejected rows of the leaf ``path`` names: ``dropped/<leaf>.jsonl`` beside its ``generated/`` folder.

    ``path`` may be the leaf's generated (or held-out, test...) file, or the dropped file itself.
    """
    if path.parent.name == DROPPED:
        return path
    candidate = DataRun(path.parent.parent).leaf_file(DROPPED, path.stem)
    if not candidate.is_file():
        raise TaxolabError(f"{path}: no dropped rows recorded for it (looked for {candidate})")
    return candidate
