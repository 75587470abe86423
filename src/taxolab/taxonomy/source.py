"""Read a qna.yaml into a YAML node tree that remembers where everything is.

libyaml (through PyYAML's C binding) composes the document: every node keeps
its start line and column, which is all validation needs to point at the
offending key or item. It is ~20x faster than ruamel.yaml's round-trip loader
on these files (``bench/bench_taxonomy.py`` measures both), which matters when
CI validates thousands of leaves. Anything that stops the file from being read
becomes a :class:`Problem`, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from taxolab.taxonomy.problems import Problem, problem_at

QNA_NAME = "qna.yaml"

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"


# What building a value can raise on odd input (bad dates, unhashable keys, unknown tags).
VALUE_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError)


def _plain_keys(node: yaml.MappingNode) -> bool:
    """Keys are plain scalars (no merge ``<<``, no lists as keys): safe for the fast conversion."""
    return all(isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG for key, _ in node.value)


class SourceError(Exception):
    """The file cannot be read as a YAML mapping; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Source:
    """A qna.yaml read and composed: its text, its root mapping node, and a scalar constructor."""

    path: Path
    text: str
    root: yaml.MappingNode
    _loader: Any

    def value(self, node: yaml.Node) -> Any:
        """The Python value of ``node`` as ``yaml.safe_load`` would build it.

        Plain mappings, lists and strings are converted here (3x faster than
        PyYAML's constructor); anything else (numbers, dates, merge keys) goes
        through PyYAML's safe constructor.
        """
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == STR_TAG else self._loader.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
            return [self.value(item) for item in node.value]
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG and _plain_keys(node):
            return {self.value(key): self.value(value) for key, value in node.value}
        return self._loader.construct_object(node, deep=True)


def read_text(path: Path) -> str:
    """The file's text; binary, non-UTF-8, empty or missing files raise :class:`SourceError`."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise SourceError(problem_at(path, 0, 0, "is a folder, not a qna.yaml file", rule="file")) from None
    except OSError as exc:
        raise SourceError(problem_at(path, 0, 0, f"cannot read: {exc.strerror}", rule="file")) from None
    if b"\0" in data:
        raise SourceError(problem_at(path, 0, 0, "is a binary file, not YAML text", rule="file"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(problem_at(path, line, 0, "is not UTF-8 text", rule="file")) from None
    return text.removeprefix("\ufeff")


def parse(path: Path, text: str) -> Source:
    """Compose ``text`` into a node tree; broken YAML, no content or a non-mapping raise :class:`SourceError`."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        loader.dispose()
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise SourceError(problem_at(path, line, col, f"invalid YAML: {_explain(exc)}", rule="yaml")) from None
    except yaml.YAMLError as exc:
        loader.dispose()
        raise SourceError(problem_at(path, 0, 0, f"invalid YAML: {exc}", rule="yaml")) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == _NULL_TAG):
        raise SourceError(
            problem_at(
                path, 0, 0, "is empty: a qna.yaml needs at least version, created_by and seed_examples", rule="file"
            )
        )
    if not isinstance(root, yaml.MappingNode):
        found = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise SourceError(
            problem_at(
                path,
                root.start_mark.line + 1,
                root.start_mark.column + 1,
                f"the top level must be a mapping of keys (version:, created_by:, seed_examples:, ...), found {found}",
                rule="yaml",
            )
        )
    return Source(path, text, root, loader)


def _explain(exc: yaml.MarkedYAMLError) -> str:
    """libyaml's problem and context as one phrase ("expected X, but found Y" / "problem (while ...)")."""
    problem = exc.problem or "cannot parse"
    if not exc.context:
        return problem
    if problem.startswith("but "):
        return f"{exc.context}, {problem}"
    return f"{problem} ({exc.context})"


def load_source(path: Path) -> Source:
    """Read and compose one qna.yaml, raising :class:`SourceError` for anything unreadable."""
    return parse(path, read_text(path))
