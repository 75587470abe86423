"""Prompt configs: YAML files with a system prompt, introduction, principles, examples,
a generation template (all jinja2, rendered with the row's columns) and start/end tags.
``optional_columns`` lists columns a template only tests with ``is defined``.

The columns a prompt reads are found by parsing its templates, so a pipeline
that feeds a prompt a column no earlier block makes fails when it is loaded,
not an hour into a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from taxolab.errors import LocatedError, SourceLocation
from taxolab.yamlio import load_yaml

_PARTS = ("introduction", "principles", "examples", "generation")
_KEYS = {"system", *_PARTS, "start_tags", "end_tags", "description", "optional_columns"}
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class PromptConfig:
    path: Path
    system: jinja2.Template
    templates: tuple[jinja2.Template, ...]
    start_tags: tuple[str, ...]
    end_tags: tuple[str, ...]
    input_columns: frozenset[str]

    def messages(self, row: dict[str, Any]) -> list[dict[str, str]]:
        """The chat messages for one row: system prompt, then the rendered parts as one user turn."""
        parts = [template.render(**row).strip() for template in self.templates]
        user = "\n\n".join(part for part in parts if part)
        system = self.system.render(**row).strip()
        messages = [{"role": "system", "content": system}] if system else []
        return [*messages, {"role": "user", "content": user}]


def load_prompt(path: Path) -> PromptConfig:
    """Read and check a prompt config; problems are reported as ``path:line: problem``."""
    data = load_yaml(path, "prompt config")
    if not isinstance(data, dict):
        raise LocatedError(SourceLocation(path, 1), "a prompt config is a mapping of system, introduction, ...")
    for key in data:
        if key not in _KEYS:
            raise LocatedError(_where(path, data, key), f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
    if not str(data.get("generation") or "").strip():
        raise LocatedError(SourceLocation(path, 1), "a prompt config needs a `generation` template")
    templates = []
    columns: set[str] = set()
    for key in ("system", *_PARTS):
        source = str(data.get(key) or "")
        try:
            parsed = _ENV.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            line = _line(data, key) + (exc.lineno or 1)
            raise LocatedError(SourceLocation(path, line), f"template error in `{key}`: {exc.message}") from None
        columns |= jinja2.meta.find_undeclared_variables(parsed)
        if key != "system":
            templates.append(_ENV.from_string(source))
    columns -= {str(column) for column in data.get("optional_columns") or ()}
    start_tags = tuple(str(tag) for tag in data.get("start_tags") or ())
    end_tags = tuple(str(tag) for tag in data.get("end_tags") or ())
    if len(end_tags) not in (0, len(start_tags)):
        raise LocatedError(_where(path, data, "end_tags"), "end_tags must be empty or as many as start_tags")
    return PromptConfig(
        path=path,
        system=_ENV.from_string(str(data.get("system") or "")),
        templates=tuple(templates),
        start_tags=start_tags,
        end_tags=end_tags or tuple("" for _ in start_tags),
        input_columns=frozenset(columns),
    )


def _line(data: Any, key: str) -> int:
    try:
        return int(data.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def _where(path: Path, data: Any, key: str) -> SourceLocation:
    return SourceLocation(path, _line(data, key))
