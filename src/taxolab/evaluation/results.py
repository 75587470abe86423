"""What every benchmark returns: scores per group (leaf or category) for the trained and base model.

One shape for all benchmarks lets the console tables, ``--json`` and the
HTML report treat them alike, and lets a script compare runs without knowing
which benchmark produced them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Change(StrEnum):
    IMPROVED = "improved"
    REGRESSED = "regressed"
    UNCHANGED = "unchanged"
    NEW = "new"


@dataclass
class ModelScores:
    """One model's scores on one benchmark.

    ``groups`` are per leaf or per category; ``extra`` holds headline numbers
    that are not groups (turn-1, turn-2, judge error rate, token F1, ...).
    """

    model: str
    overall: float | None
    groups: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, float | None] = field(default_factory=dict)


@dataclass
class GroupDelta:
    group: str
    trained: float | None
    base: float | None
    change: Change

    @property
    def delta(self) -> float | None:
        if self.trained is None or self.base is None:
            return None
        return self.trained - self.base


@dataclass
class BenchmarkResult:
    benchmark: str
    metric: str
    scale: tuple[float, float]
    trained: ModelScores
    base: ModelScores | None = None
    judge: str | None = None
    group_label: str = "leaf"
    new_groups: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    min_delta: float = 0.0

    def comparison(self) -> list[GroupDelta]:
        """Per group: trained vs base, and whether it improved, regressed, stayed or is new."""
        names = list(self.trained.groups)
        if self.base is not None:
            names += [g for g in self.base.groups if g not in self.trained.groups]
        rows = []
        for name in names:
            trained = self.trained.groups.get(name)
            base = self.base.groups.get(name) if self.base is not None else None
            rows.append(GroupDelta(name, trained, base, self._change(name, trained, base)))
        return rows

    def _change(self, name: str, trained: float | None, base: float | None) -> Change:
        if name in self.new_groups or (base is None and trained is not None):
            return Change.NEW
        if trained is None or base is None:
            return Change.UNCHANGED
        if trained - base > self.min_delta:
            return Change.IMPROVED
        if base - trained > self.min_delta:
            return Change.REGRESSED
        return Change.UNCHANGED

    def summary(self) -> dict[str, list[str]]:
        """Group names by change, the lists a user scans first."""
        result: dict[str, list[str]] = {change.value: [] for change in Change}
        if self.base is None:
            return result
        for row in self.comparison():
            result[row.change.value].append(row.group)
        return result

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = {key: str(value) for key, value in self.files.items()}
        data["comparison"] = [
            {
                "group": row.group,
                "trained": row.trained,
                "base": row.base,
                "delta": row.delta,
                "change": row.change.value,
            }
            for row in self.comparison()
        ]
        data["summary"] = self.summary()
        return data


@dataclass
class EvaluationReport:
    """All benchmarks of one ``model evaluate`` run, and where their files went."""

    model: str
    base_model: str | None
    output_dir: Path
    results: list[BenchmarkResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    html_report: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_model": self.base_model,
            "output_dir": str(self.output_dir),
            "html_report": str(self.html_report) if self.html_report else None,
            "results": {result.benchmark: result.to_json() for result in self.results},
            "skipped": self.skipped,
        }


def mean(values: list[float]) -> float | None:
    """Arithmetic mean, or None for no values (a group with no scorable items)."""
    return sum(values) / len(values) if values else None
