"""Atomic file writes: a reader never sees half a file, a crash never loses the old one.

Every artefact taxolab produces (configs, datasets, manifests, checkpoints'
metadata) goes through here, so a killed run leaves either the previous
complete file or the new complete file, never a truncated one.

A write the machine refuses (disk full, file size limit, quota, permissions,
read-only file system) becomes one :class:`WriteError` naming the path, the
reason and the remedy, through :func:`writing`: :func:`atomic_open` applies it
to every file written here, and writers of whole folders (HF checkpoints,
GGUF conversion) wrap themselves in it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from taxolab.errors import LocatedError, SourceLocation, TaxolabError

SPACE_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EFBIG: "file too large (the file system's or this process's file size limit, ulimit -f, is reached)",
    errno.EDQUOT: "disk quota exceeded",
}
ACCESS_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
}
RERUN = "then rerun the same command to resume"
# Libraries and tools that wrap the OS error in their own text: safetensors ("... (os error 27)"), Rust's
# Debug form ("Os { code: 28, ..."), a Python tool's last line ("OSError: [Errno 28] ...").
_OS_CODE = re.compile(r"\(os error (\d+)\)|Os \{ code: (\d+)|\[Errno (\d+)\]")
# gguf-py checks space itself before writing: "Not enough free space to write N bytes".
_NO_SPACE = re.compile(r"not enough free space", re.IGNORECASE)


def os_code(text: str) -> int | None:
    """The OS error number a library or tool wrote into ``text``, if any."""
    match = _OS_CODE.search(text)
    if match:
        return int(next(group for group in match.groups() if group))
    return errno.ENOSPC if _NO_SPACE.search(text) else None


class WriteError(TaxolabError):
    """The machine refused a write: ``path`` (or its folder) could not be written for ``reason``.

    ``errno`` is the OS error number (``errno.ENOSPC``, ...). A fault of the
    machine, not of taxolab: shown as one line, never as an internal error.
    """

    def __init__(self, path: Path | str | None, code: int, reason: str, remedy: str, verb: str = "write") -> None:
        self.path = None if path is None else Path(path)
        self.errno = code
        self.reason = reason
        what = f"cannot {verb} {self.path}" if self.path is not None else f"cannot {verb} a file"
        super().__init__(f"{what}: {reason}; {remedy}")


def write_fault(exc: BaseException) -> OSError | None:
    """The OS error behind ``exc`` when it is a refused write (space or access), else ``None``.

    Looks through ``__cause__``/``__context__`` (``torch.save`` raises a
    RuntimeError whose context is the OSError) and at library messages that
    carry the OS error number (safetensors).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, WriteError):
            return None
        code = current.errno if isinstance(current, OSError) else None
        if code is None:
            code = os_code(str(current))
        if code in SPACE_REASONS or code in ACCESS_REASONS:
            return current if isinstance(current, OSError) else OSError(code, os.strerror(code))
        current = current.__cause__ or current.__context__
    return None


def write_error(exc: BaseException, path: Path | str | None, *, elsewhere: str = "--output-dir") -> WriteError | None:
    """``exc`` as a :class:`WriteError` about ``path`` (default: the file the OS named), or ``None``.

    ``elsewhere`` is the option or setting that puts the files on another disk.
    """
    fault = write_fault(exc)
    if fault is None or fault.errno is None:
        return None
    code = fault.errno
    target = path if path is not None else fault.filename
    if code in SPACE_REASONS:
        free = _free_space(Path(target)) if target is not None and code != errno.EFBIG else ""
        return WriteError(target, code, SPACE_REASONS[code] + free, f"free space or use another {elsewhere}, {RERUN}")
    if path is None:  # named by the OS alone, which may have been reading it: say "access", not "write"
        remedy = f"check its permissions or use another {elsewhere}, {RERUN}"
        return WriteError(target, code, ACCESS_REASONS[code], remedy, verb="access")
    return WriteError(
        target, code, ACCESS_REASONS[code], f"make the folder writable or use another {elsewhere}, {RERUN}"
    )


def _free_space(path: Path) -> str:
    """`` (N GB free there)`` for the file system holding ``path``; empty when it cannot be told."""
    for folder in (path, *path.parents):
        if folder.exists():
            try:
                free = shutil.disk_usage(folder).free
            except OSError:
                return ""
            return f" ({free / 1e9:.1f} GB free there)"
    return ""


@contextlib.contextmanager
def writing(path: Path | str, *, elsewhere: str = "--output-dir") -> Iterator[None]:
    """Turn a refused write inside the block into a :class:`WriteError` naming ``path``.

    Everything else passes through unchanged. ``elsewhere`` names the option
    or setting that moves the output to another disk.
    """
    try:
        yield
    except Exception as exc:
        error = write_error(exc, path, elsewhere=elsewhere)
        if error is None:
            raise
        raise error from exc


@contextlib.contextmanager
def atomic_open(
    path: Path, mode: str = "w", encoding: str | None = "utf-8", *, elsewhere: str = "--output-dir"
) -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` and rename it over ``path`` on success.

    Raises :class:`WriteError` naming ``path`` when the disk is full or the
    folder is not writable (``elsewhere``: see :func:`writing`); the temporary
    file is removed and ``path`` keeps its previous content.
    """
    path = Path(path)
    with writing(path, elsewhere=elsewhere):
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


def copy_file(source: Path, target: Path) -> None:
    """Atomically replace ``target`` with a copy of ``source`` (a :class:`WriteError` when the disk refuses)."""
    with Path(source).open("rb") as src, atomic_open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)


def write_text(path: Path, text: str, *, elsewhere: str = "--output-dir") -> None:
    """Atomically replace ``path`` with ``text`` (``elsewhere``: see :func:`writing`)."""
    with atomic_open(path, elsewhere=elsewhere) as handle:
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
