"""Validate one qna.yaml: file checks, YAML lint (version 2+), then the schema rules.

Nothing here raises for a bad file: every finding becomes a :class:`Problem`
in a :class:`FileReport`, so callers can show all of them at once.
:func:`load_leaf` is the strict entry point for code that needs a usable leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxolab.taxonomy import schema
from taxolab.taxonomy.lint import lint_text
from taxolab.taxonomy.model import Leaf, LeafKind
from taxolab.taxonomy.problems import Problem, TaxonomyValidationError, problem_at
from taxolab.taxonomy.source import QNA_NAME, VALUE_ERRORS, Source, SourceError, load_source
from taxolab.taxonomy.tree import find_taxonomy_root, section_of


@dataclass
class FileReport:
    """The outcome for one file: its kind and version when known, every problem, and the leaf if valid."""

    path: Path
    kind: LeafKind | None = None
    version: int | None = None
    problems: list[Problem] = field(default_factory=list)
    leaf: Leaf | None = None

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def display_path(self, relative_to: Path | None = None) -> Path:
        """The path relative to ``relative_to`` when it is inside it, else as given."""
        if relative_to is not None:
            try:
                return self.path.relative_to(relative_to)
            except ValueError:
                pass
        return self.path

    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        return {
            "path": str(self.display_path(relative_to)),
            "kind": str(self.kind) if self.kind else None,
            "version": self.version,
            "valid": self.valid,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }


def validate_file(qna_path: Path, taxonomy_root: Path | None = None) -> FileReport:
    """Every problem of one file; ``taxonomy_root`` (found from the path when omitted) decides the kind."""
    qna_path = Path(qna_path)
    report = FileReport(qna_path)
    if qna_path.name != QNA_NAME:
        report.problems.append(
            problem_at(qna_path, 0, 0, f'taxonomy files must be named "{QNA_NAME}", not "{qna_path.name}"', rule="file")
        )
        return report
    try:
        source = load_source(qna_path)
    except SourceError as exc:
        report.problems.append(exc.problem)
        return report
    root = taxonomy_root if taxonomy_root is not None else find_taxonomy_root(qna_path)
    version, _ = schema.read_version(source)
    if version >= 2:
        report.problems.extend(lint_text(source.text, qna_path))
    content = schema.check(source, section_of(qna_path, root))
    report.problems.extend(content.problems)
    report.problems.sort()
    report.kind, report.version = content.kind, content.version
    if report.valid and content.kind is not None and content.version is not None:
        report.leaf = Leaf(
            qna_path=qna_path,
            taxonomy_root=root if root is not None else qna_path.parent.parent,
            kind=content.kind,
            version=content.version,
            created_by=content.created_by,
            seed_examples=content.seed_examples,
            task_description=content.task_description,
            domain=content.domain,
            document_outline=content.document_outline,
            document=content.document,
            raw=_raw(source),
        )
    return report


def _raw(source: Source) -> dict[str, Any]:
    """The file as ``yaml.safe_load`` reads it (for consumers wanting keys taxolab does not model)."""
    try:
        value = source.value(source.root)
    except VALUE_ERRORS:
        return {}
    return value if isinstance(value, dict) else {}


def load_leaf(qna_path: Path, taxonomy_root: Path) -> Leaf:
    """The validated leaf, or :class:`TaxonomyValidationError` listing every error (warnings are not fatal)."""
    report = validate_file(qna_path, taxonomy_root)
    if report.leaf is None:
        raise TaxonomyValidationError(report.errors)
    return report.leaf
