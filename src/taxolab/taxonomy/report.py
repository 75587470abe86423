"""Validate many files at once: what ``taxonomy diff`` and ``taxonomy lint`` show, and what SDG loads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxolab.taxonomy.gitdiff import AUTO_BASE, changed_taxonomy_files
from taxolab.taxonomy.model import Leaf
from taxolab.taxonomy.problems import Problem, TaxonomyValidationError, problem_at
from taxolab.taxonomy.tree import expand_lint_targets, find_taxonomy_root, foundational_skill_files
from taxolab.taxonomy.validate import FileReport, validate_file


@dataclass
class TaxonomyReport:
    """Reports for a set of files; ``base`` is the git base used by a diff (None for lint)."""

    files: list[FileReport] = field(default_factory=list)
    taxonomy_root: Path | None = None
    base: str | None = None

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    def passes(self, strict: bool = False) -> bool:
        """No errors (``strict``: no warnings either), the exit status of ``taxonomy diff|lint``."""
        return self.valid and not (strict and self.warning_count)

    @property
    def error_count(self) -> int:
        return sum(len(f.errors) for f in self.files)

    @property
    def warning_count(self) -> int:
        return sum(len(f.warnings) for f in self.files)

    @property
    def leaves(self) -> list[Leaf]:
        return [f.leaf for f in self.files if f.leaf is not None]

    def raise_for_errors(self) -> None:
        """:class:`TaxonomyValidationError` with every error of every file, if there is one."""
        errors = [p for f in self.files for p in f.errors]
        if errors:
            raise TaxonomyValidationError(errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "taxonomy_path": str(self.taxonomy_root) if self.taxonomy_root else None,
            "base": self.base,
            "valid": self.valid,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "files": [f.to_json(self.taxonomy_root) for f in self.files],
        }


def validate_files(paths: Iterable[Path], taxonomy_root: Path | None = None) -> list[FileReport]:
    """One report per file, in the given order.

    Serial on purpose: worker processes (spawned, ~0.3 s each, results
    pickled back) were measured slower than one process for 1,000 leaves on
    the 2-core project machine.
    """
    return [validate_file(path, taxonomy_root) for path in paths]


def diff_taxonomy(taxonomy_root: Path, base: str = AUTO_BASE) -> TaxonomyReport:
    """Validate the leaves added or changed against ``base`` (see :mod:`taxolab.taxonomy.gitdiff`)."""
    root = Path(taxonomy_root)
    changed = changed_taxonomy_files(root, base)
    return TaxonomyReport(validate_files(changed.paths, root), root, changed.base)


def lint_paths(paths: Iterable[Path]) -> TaxonomyReport:
    """Validate files and trees as given, regardless of git; each file's kind comes from its own tree."""
    targets = [Path(p) for p in paths]
    missing = [p for p in targets if not p.exists()]
    files = expand_lint_targets(p for p in targets if p.exists())
    reports = [validate_file(p, find_taxonomy_root(p)) for p in files]
    for path in missing:
        report = FileReport(path)
        report.problems.append(_missing(path))
        reports.append(report)
    return TaxonomyReport(reports)


def load_leaves(taxonomy_root: Path, base: str = AUTO_BASE) -> list[Leaf]:
    """The valid leaves changed against ``base`` (``empty``: all), or an error listing every problem."""
    report = diff_taxonomy(taxonomy_root, base)
    report.raise_for_errors()
    return report.leaves


def load_foundational_skills(taxonomy_root: Path) -> list[Leaf]:
    """The foundational skills (evaluation reads them; generation does not); invalid ones raise."""
    root = Path(taxonomy_root)
    report = TaxonomyReport(validate_files(foundational_skill_files(root), root), root)
    report.raise_for_errors()
    return report.leaves


def _missing(path: Path) -> Problem:
    return problem_at(path, 0, 0, "no such file or folder", rule="file")
