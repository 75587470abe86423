"""The one place content hashes are made: of JSON-like values, of files, of folders.

Every fingerprint in taxolab (a ``taxolab run`` stage's inputs, a data run's
resume check, a training journal) is one of these two hashes over a JSON
description, so two places can never disagree on how a value is hashed.
Which *settings* go into such a description is declared on the settings
models themselves (:mod:`taxolab.config.affects`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SHORT = 16
"""Hex digits kept where a fingerprint is shown or stored as a name (64 bits: no accidental collisions)."""


def hash_json(value: Any) -> str:
    """SHA-256 (64 hex digits) of a JSON-compatible value, keys sorted; non-JSON values go through ``str``."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 of the files' names and bytes; order-independent, folders expanded recursively.

    Names are taken relative to ``root`` when given (so a moved folder hashes
    the same), else as given. A missing path raises ``FileNotFoundError``.
    """
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


def hash_bytes(path: Path) -> str:
    """SHA-256 of one file's bytes only (its name left out): the same document anywhere hashes the same."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_text(text: str) -> str:
    """SHA-256 of a string's UTF-8 bytes (e.g. a path, to name a folder after it)."""
    return hashlib.sha256(text.encode()).hexdigest()


def short(full: str) -> str:
    """The first :data:`SHORT` hex digits of a hash, for names and records."""
    return full[:SHORT]
