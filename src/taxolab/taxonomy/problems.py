"""What validation finds: problems at a place in a file, and the error that carries them.

A problem is an *error* (the leaf cannot be used) or a *warning* (worth fixing,
but InstructLab would accept the file too: yamllint's warning-level rules and a
few stricter checks of ours). Only errors make a file invalid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from taxolab.errors import SourceLocation, TaxolabError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, shown as ``path:line:col: message`` (warnings say so)."""

    location: SourceLocation
    message: str
    severity: Severity = Severity.ERROR
    rule: str = "schema"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.location}: {prefix}{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.location.line,
            "col": self.location.col,
            "severity": str(self.severity),
            "rule": self.rule,
            "message": self.message,
        }


def problem_at(
    path: Path, line: int, col: int, message: str, *, rule: str = "schema", severity: Severity = Severity.ERROR
) -> Problem:
    """A problem at 1-based ``line``/``col`` (0 means "the whole file")."""
    return Problem(SourceLocation(path, line, col), message, severity, rule)


class TaxonomyValidationError(TaxolabError):
    """One or more taxonomy files are invalid; ``str()`` lists every problem, one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid taxonomy")
