"""Map a document repo URL to where it can actually be fetched from.

Offline and air-gapped users cannot reach ``https://github.com/...``; the
``documents.mirrors`` setting maps a repo URL, or a URL prefix ending in ``/``,
to a local path (work tree or bare repo), a ``.bundle`` file, or another URL.
URLs match with or without a trailing ``.git`` or ``/``; the longest match wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")


def normalize_url(url: str) -> str:
    """``https://host/a/b.git/`` and ``https://host/a/b`` name the same repo."""
    url = url.strip().rstrip("/")
    return url.removesuffix(".git")


def is_remote(location: str) -> bool:
    """True for network URLs (``https://``, ``ssh://``, ``git@host:``), False for paths and ``file://``."""
    if location.startswith("file://"):
        return False
    return "://" in location or bool(_SCP_LIKE.match(location))


def resolve_mirror(repo: str, mirrors: Mapping[str, str]) -> tuple[str, bool]:
    """Where to fetch ``repo`` from, and whether a mirror was used."""
    wanted = normalize_url(repo)
    best: tuple[int, str] | None = None
    for key, target in mirrors.items():
        prefix = normalize_url(key)
        if wanted == prefix:
            return _expand(target), True
        if key.strip().endswith("/") and wanted.startswith(prefix + "/"):
            rest = wanted[len(prefix) + 1 :]
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), _join(target, rest))
    if best is not None:
        return best[1], True
    return _expand(repo), False


def _expand(location: str) -> str:
    location = location.strip()
    if is_remote(location) or location.startswith("file://"):
        return location
    return str(Path(location).expanduser())


def _join(target: str, rest: str) -> str:
    """``target`` + the rest of the URL; for local folders, also try ``rest.git`` and ``rest.bundle``."""
    if is_remote(target) or target.startswith("file://"):
        return f"{target.rstrip('/')}/{rest}"
    base = Path(target).expanduser() / rest
    for candidate in (base, base.with_name(base.name + ".git"), base.with_name(base.name + ".bundle")):
        if candidate.exists():
            return str(candidate)
    return str(base)
