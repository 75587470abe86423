"""Read a user's YAML file keeping positions, so every later complaint can name its line.

Config files, pipelines, prompt configs and mixing recipes all go through
here: a missing file, broken YAML or a non-UTF-8 file is one clear line.
(qna.yaml files have their own faster reader in ``taxonomy.source``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from taxolab.errors import LocatedError, SourceLocation, TaxolabError


def load_yaml(path: Path, what: str) -> Any:
    """The round-trip document of ``path`` (mappings carry ``.lc`` line info); ``what`` names it in errors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxolabError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise TaxolabError(f"{path}: is a folder, expected a {what} file") from None
    except UnicodeDecodeError:
        raise TaxolabError(f"{path}: not a UTF-8 text file") from None
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = SourceLocation(path, mark.line + 1, mark.column + 1) if mark else SourceLocation(path)
        raise LocatedError(where, f"invalid YAML: {exc.problem}") from None


def plain(node: Any) -> Any:
    """The same data as plain dicts and lists (string keys), for validation with pydantic."""
    if isinstance(node, Mapping):
        return {str(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    return node
