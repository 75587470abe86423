"""Validate many files at once: what ``taxonomy diff`` and ``taxonomy lint`` show, and what SDG loads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxolab.errors import TaxolabError
from taxolab.taxonomy.gitdiff import AUTO_BASE, changed_taxonomy_files
from taxolab.taxonomy.model import Leaf
from taxolab.taxonomy.problems import Problem, TaxonomyValidationError, problem_at
from taxolab.taxonomy.tree import (
    ALL_SECTIONS,
    expand_lint_targets,
    find_taxonomy_root,
    foundational_skill_files,
    outside_notice,
    stray_leaf_files,
)
from taxolab.taxonomy.validate import FileReport, validate_file


@dataclass
class TaxonomyReport:
    """Reports for a set of files; ``base`` is the git base used by a diff (None for lint).

    ``notices`` name files that were found but deliberately not validated or
    used (a ``qna.yaml`` under ``foundational_skills/`` in a diff, one outside
    every section in a lint), so that no file a user added vanishes without a
    word. ``strict`` makes warnings fail the verdict everywhere it is shown
    (:meth:`passes`, each file's ``valid`` in :meth:`to_json`), not only in the exit status.
    """

    files: list[FileReport] = field(default_factory=list)
    taxonomy_root: Path | None = None
    base: str | None = None
    notices: list[str] = field(default_factory=list)
    strict: bool = False

    @property
    def valid(self) -> bool:
        """No file has an error (warnings allowed, whatever ``strict`` says): the leaves are usable."""
        return all(f.valid for f in self.files)

    def passes(self, strict: bool | None = None) -> bool:
        """No errors (``strict``, default ``self.strict``: no warnings either), the exit status of diff|lint."""
        return all(self.file_passes(f, strict) for f in self.files)

    def file_passes(self, report: FileReport, strict: bool | None = None) -> bool:
        """One file's verdict: valid, and under ``strict`` (default ``self.strict``) free of warnings too."""
        strict = self.strict if strict is None else strict
        return report.valid and not (strict and report.warnings)

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
        files = []
        for report in self.files:
            entry = report.to_json(self.taxonomy_root)
            entry["valid"] = self.file_passes(report)
            files.append(entry)
        return {
            "taxonomy_path": str(self.taxonomy_root) if self.taxonomy_root else None,
            "base": self.base,
            "strict": self.strict,
            "valid": self.passes(),
            "errors": self.error_count,
            "warnings": self.warning_count,
            "files": files,
            "notices": list(self.notices),
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
    notices = [outside_notice(p.relative_to(root)) for p in changed.outside]
    return TaxonomyReport(validate_files(changed.paths, root), root, changed.base, notices)


def lint_paths(paths: Iterable[Path]) -> TaxonomyReport:
    """Validate files and trees as given, regardless of git; each file's kind comes from its own tree.

    A path that does not exist, or a folder holding no YAML file, is a problem
    of its own (asked to lint it, the user must not get a clean bill of health);
    ``qna.yaml`` files outside the three sections of a tree are named in ``notices``.
    """
    targets = [Path(p) for p in paths]
    found: dict[Path, None] = {}
    nothing: list[Problem] = []
    for target in targets:
        if not target.exists():
            nothing.append(_missing(target))
            continue
        files = expand_lint_targets([target])
        if not files:
            nothing.append(
                problem_at(
                    target,
                    0,
                    0,
                    "holds no YAML files to lint (a taxonomy has knowledge/ and compositional_skills/ "
                    "folders of qna.yaml files); check the path",
                    rule="file",
                )
            )
        found.update(dict.fromkeys(files))
    reports = [validate_file(p, find_taxonomy_root(p)) for p in found]
    for problem in nothing:
        report = FileReport(problem.location.path)
        report.problems.append(problem)
        reports.append(report)
    notices = [
        outside_notice(stray.relative_to(folder))
        for folder in targets
        if folder.is_dir() and any((folder / s).is_dir() for s in ALL_SECTIONS)
        for stray in stray_leaf_files(folder)
    ]
    return TaxonomyReport(reports, notices=notices)


def load_leaves(taxonomy_root: Path, base: str = AUTO_BASE) -> list[Leaf]:
    """The valid leaves changed against ``base`` (``empty``: all), or an error listing every problem."""
    report = diff_taxonomy(taxonomy_root, base)
    report.raise_for_errors()
    if not report.files and report.notices:
        # The user changed something, just nothing generation reads: say so instead of "no changed leaves".
        raise TaxolabError(
            f"no knowledge/ or compositional_skills/ leaf changed against {report.base}: {'; '.join(report.notices)}"
        )
    return report.leaves


def load_foundational_skills(taxonomy_root: Path) -> list[Leaf]:
    """The foundational skills (evaluation reads them; generation does not); invalid ones raise."""
    root = Path(taxonomy_root)
    report = TaxonomyReport(validate_files(foundational_skill_files(root), root), root)
    report.raise_for_errors()
    return report.leaves


def _missing(path: Path) -> Problem:
    return problem_at(path, 0, 0, "no such file or folder", rule="file")
