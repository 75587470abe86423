"""Content hashes that decide whether a stage's inputs changed since it last ran."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def hash_json(value: Any) -> str:
    """Stable hash of a JSON-compatible value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """Hash of the files' relative names and bytes; order-independent, folders expanded."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for item in map(Path, paths):
        files.extend(sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item])
    for file in sorted(set(files)):
        name = str(file.relative_to(root)) if root and file.is_relative_to(root) else str(file)
        digest.update(name.encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()
