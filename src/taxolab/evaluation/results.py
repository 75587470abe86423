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
    NO_SCORE = "no score"  # one side has no number (e.g. every verdict unreadable): never "unchanged"
    MIXED = "mixed"  # reference measures moved in both directions


# recall's main measure, and the source label of questions held out of training.
LEARNED_METRIC = "facts learned"
SOURCE_HELD_OUT = "held-out"

# Measures computed against the reference answer, without a judge. Each gets its own
# verdict (the min-delta rule applied to it alone), so a real move is never hidden
# behind an unreadable or unchanged judge score.
REFERENCE_METRICS = ("key_recall", "token_f1", "rouge_l")
# Headline extras where higher is better and a change is a verdict (error rates are not).
VERDICT_METRICS = (*REFERENCE_METRICS, "judge_score", "turn_1", "turn_2")


def compare(trained: float | None, base: float | None, min_delta: float) -> Change:
    """Improved or regressed when the difference exceeds ``min_delta``; "no score" when a side is missing."""
    if trained is None or base is None:
        return Change.NO_SCORE
    if trained - base > min_delta:
        return Change.IMPROVED
    if base - trained > min_delta:
        return Change.REGRESSED
    return Change.UNCHANGED


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
class MetricDelta:
    """One headline measure (``overall`` or an extra such as ``token_f1``), trained vs base, and its verdict."""

    name: str
    trained: float | None
    base: float | None
    change: Change | None  # None: not a verdict measure (error rates)

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
    source: str | None = None  # where the questions come from, when the report must say it (recall)

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
        return compare(trained, base, self.min_delta)

    def metric_changes(self) -> list[MetricDelta]:
        """The overall score and each extra measure, trained vs base, each with its own min-delta verdict."""
        base = self.base
        rows = [
            MetricDelta(
                "overall",
                self.trained.overall,
                base.overall if base else None,
                compare(self.trained.overall, base.overall, self.min_delta) if base else None,
            )
        ]
        for key, value in self.trained.extra.items():
            base_value = base.extra.get(key) if base else None
            change = compare(value, base_value, self.min_delta) if base and key in VERDICT_METRICS else None
            rows.append(MetricDelta(key, value, base_value, change))
        return rows

    def verdict(self) -> Change | None:
        """The benchmark's one-word verdict (None without a base model).

        The overall score decides when it moved. When it did not move or has no
        number (a judge that failed on every answer), the reference measures
        decide: improved if one improved and none regressed, regressed the other
        way round, mixed if both; "unchanged" only when none of them moved.
        """
        if self.base is None:
            return None
        changes = {row.name: row.change for row in self.metric_changes()}
        overall = changes.pop("overall")
        if overall in (Change.IMPROVED, Change.REGRESSED):
            return overall
        moved = {changes[k] for k in REFERENCE_METRICS if changes.get(k) in (Change.IMPROVED, Change.REGRESSED)}
        if len(moved) == 2:
            return Change.MIXED
        if moved:
            return moved.pop()
        if overall == Change.UNCHANGED or any(changes.get(k) == Change.UNCHANGED for k in REFERENCE_METRICS):
            return Change.UNCHANGED
        return Change.NO_SCORE

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
        data["metrics"] = [
            {
                "name": row.name,
                "trained": row.trained,
                "base": row.base,
                "delta": row.delta,
                "change": row.change.value if row.change else None,
            }
            for row in self.metric_changes()
        ]
        verdict = self.verdict()
        data["verdict"] = verdict.value if verdict else None
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
