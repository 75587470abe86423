"""Read the first rows of a generated or training file for people to look at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taxolab.errors import TaxolabError


def head_rows(path: Path, n: int) -> list[dict[str, Any]]:
    """The first ``n`` JSON rows of a JSONL file (reads no further than needed)."""
    if not path.is_file():
        raise TaxolabError(f"{path}: file not found")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if len(rows) >= n:
                break
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise TaxolabError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
    return rows
