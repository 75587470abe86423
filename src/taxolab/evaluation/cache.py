"""On-disk cache of model answers and judge verdicts.

Generating answers is the slow part of a generative benchmark, so each answer
is stored under a key made of everything that determines it: the model's
identity (weights file size and time, or endpoint and model name), the exact
messages and the generation settings. A rerun, or the same answers graded by a
second judge, then costs no generation at all. Entries are small JSON files
written atomically, sharded by key prefix, so concurrent tasks and killed
runs never corrupt the cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.hashing import hash_json


def cache_key(*parts: Any) -> str:
    """A stable hash of JSON-serialisable parts (order matters), made like every other hash in taxolab."""
    return hash_json(list(parts))


class DiskCache:
    """A key-value store of JSON documents in ``root/<kind>/<ab>/<key>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        path = self._path(kind, key)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        fsio.write_json(self._path(kind, key), value, indent=0)
