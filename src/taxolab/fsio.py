"""Atomic file writes: a reader never sees half a file, a crash never loses the old one.

Every artefact taxolab produces (configs, datasets, manifests, checkpoints'
metadata) goes through here, so a killed run leaves either the previous
complete file or the new complete file, never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from taxolab.errors import LocatedError, SourceLocation, TaxolabError


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` and rename it over ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``."""
    with atomic_open(path) as handle:
        handle.write(text)


def write_json(path: Path, data: Any, indent: int = 2) -> None:
    """Atomically replace ``path`` with ``data`` as pretty JSON."""
    write_text(path, json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: Path, rows: Iterable[Any]) -> int:
    """Atomically replace ``path`` with one JSON document per line; returns the row count."""
    count = 0
    with atomic_open(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def iter_jsonl(path: Path) -> Iterator[tuple[SourceLocation, Any]]:
    """Each non-blank line's location and parsed value; a line that is not JSON is a one-line
    :class:`LocatedError` naming the file and line, so callers only check their own fields."""
    if not Path(path).is_file():
        what = "is a folder, not a JSONL file" if Path(path).is_dir() else "does not exist"
        raise TaxolabError(f"{path}: {what}")
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = SourceLocation(Path(path), number, 1)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise LocatedError(where, "not UTF-8 text (is this a JSONL file? save it as UTF-8)") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LocatedError(where, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            yield where, value


def read_jsonl(path: Path) -> list[Any]:
    """Read a JSONL file written by :func:`write_jsonl` (blank lines ignored)."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
