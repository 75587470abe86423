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

from taxolab.evaluation.stats import (
    ALPHA,
    Direction,
    PairedComparison,
    ScoreComparison,
    compare_paired,
    compare_scores,
)


class Change(StrEnum):
    """A base-vs-trained verdict word; improved / worse only when a paired test rejects at ``alpha``."""

    IMPROVED = Direction.IMPROVED
    REGRESSED = Direction.WORSE
    UNCHANGED = Direction.NO_CHANGE
    NEW = "new"
    NO_SCORE = "no score"  # one side has no number (e.g. every verdict unreadable): never "unchanged"
    UNTESTED = "untested"  # numbers but no per-question scores to pair (lm-eval backend, older results)
    MIXED = "mixed"  # reference measures moved in both directions


# recall's main measure, and the source label of questions held out of training.
LEARNED_METRIC = "facts learned"
SOURCE_HELD_OUT = "held-out"
# Main measures scored right/wrong per question: compared by the exact McNemar test, others by a bootstrap.
BINARY_METRICS = (LEARNED_METRIC, "accuracy")

# Measures computed against the reference answer, without a judge. Each gets its own
# verdict (its own paired test), so a real move is never hidden behind an unreadable
# or unchanged judge score.
REFERENCE_METRICS = ("key_recall", "token_f1", "rouge_l")
# Headline extras where higher is better and a change is a verdict (error rates are not).
VERDICT_METRICS = (*REFERENCE_METRICS, "judge_score", "turn_1", "turn_2")
OVERALL = "overall"

Comparison = PairedComparison | ScoreComparison


def compare(trained: float | None, base: float | None, test: Comparison | None) -> Change:
    """The verdict of one measure: "no score" when a side has no number, "untested" without a paired test,
    else the test's word (:func:`taxolab.evaluation.stats.change_of`)."""
    if trained is None or base is None:
        return Change.NO_SCORE
    if test is None:
        return Change.UNTESTED
    return Change(test.change)


@dataclass
class ModelScores:
    """One model's scores on one benchmark.

    ``groups`` are per leaf or per category; ``extra`` holds headline numbers
    that are not groups (turn-1, turn-2, judge error rate, token F1, ...).
    ``items`` holds each question's scores by question key (``overall`` and
    the extras that have a per-question value; None when it has none) and
    ``item_groups`` each question's group: the paired tests compare them with
    the other model's scores on the same questions.
    """

    model: str
    overall: float | None
    groups: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, float | None] = field(default_factory=dict)
    items: dict[str, dict[str, float | None]] = field(default_factory=dict)
    item_groups: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_groups(cls, model: str, per_group: dict[str, list[float]]) -> ModelScores:
        """Mean per group, question count per group, and the mean over every question as ``overall``."""
        groups = {group: mean(values) for group, values in per_group.items()}
        counts = {group: len(values) for group, values in per_group.items()}
        overall = mean([value for values in per_group.values() for value in values])
        return cls(model, overall, groups, counts)

    @classmethod
    def of_items(cls, model: str, items: list[tuple[str, str, float]]) -> ModelScores:
        """:meth:`of_groups` of ``(key, group, value)`` per question, each kept as an item (``overall=value``)
        so the paired tests can compare it with the other model's."""
        per_group: dict[str, list[float]] = {}
        for _key, group, value in items:
            per_group.setdefault(group, []).append(value)
        scores = cls.of_groups(model, per_group)
        for key, group, value in items:
            scores.add_item(key, group, overall=value)
        return scores

    def add_item(self, key: str, group: str, **values: float | None) -> None:
        """Record one question's scores (``overall=`` the main measure, extras by name)."""
        self.items[key] = values
        self.item_groups[key] = group


def paired_test(
    trained: ModelScores,
    base: ModelScores,
    measure: str = OVERALL,
    *,
    group: str | None = None,
    binary: bool = False,
    alpha: float = ALPHA,
) -> Comparison | None:
    """The paired test of ``measure`` on the questions both models have a value for (of ``group`` if given).

    Right/wrong measures (``binary``) get the exact McNemar test, others the
    paired bootstrap (:mod:`taxolab.evaluation.stats`). None when no question
    has a value from both models.
    """
    keys = [
        key
        for key, values in trained.items.items()
        if (group is None or trained.item_groups.get(key) == group)
        and values.get(measure) is not None
        and key in base.items
        and base.items[key].get(measure) is not None
    ]
    if not keys:
        return None
    t = [float(trained.items[k][measure] or 0.0) for k in keys]
    b = [float(base.items[k][measure] or 0.0) for k in keys]
    if binary:
        return compare_paired([v >= 0.5 for v in b], [v >= 0.5 for v in t], alpha=alpha)
    return compare_scores(b, t, alpha=alpha)


@dataclass
class GroupDelta:
    group: str
    trained: float | None
    base: float | None
    change: Change
    test: Comparison | None = None

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
    test: Comparison | None = None

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
    alpha: float = ALPHA  # significance level of the paired tests
    source: str | None = None  # where the questions come from, when the report must say it (recall)

    def comparison(self) -> list[GroupDelta]:
        """Per group: trained vs base, its paired test, and whether it improved, got worse, did not change or is new."""
        names = list(self.trained.groups)
        if self.base is not None:
            names += [g for g in self.base.groups if g not in self.trained.groups]
        rows = []
        for name in names:
            trained = self.trained.groups.get(name)
            base = self.base.groups.get(name) if self.base is not None else None
            if name in self.new_groups or (base is None and trained is not None):
                rows.append(GroupDelta(name, trained, base, Change.NEW))
                continue
            test = self.test(OVERALL, group=name)
            rows.append(GroupDelta(name, trained, base, compare(trained, base, test), test))
        return rows

    def __post_init__(self) -> None:
        # tests computed once per (measure, group): a bootstrap over a full MMLU takes about a second
        self._tests: dict[tuple[str, str | None], Comparison | None] = {}

    def test(self, measure: str = OVERALL, *, group: str | None = None) -> Comparison | None:
        """The paired test of one measure (overall or an extra), over all questions or one group's."""
        if self.base is None:
            return None
        if (measure, group) not in self._tests:
            binary = measure == OVERALL and self.metric in BINARY_METRICS
            self._tests[measure, group] = paired_test(
                self.trained, self.base, measure, group=group, binary=binary, alpha=self.alpha
            )
        return self._tests[measure, group]

    def metric_changes(self) -> list[MetricDelta]:
        """The overall score and each extra measure, trained vs base, each with its own paired test and verdict."""
        base = self.base
        test = self.test(OVERALL)
        overall = compare(self.trained.overall, base.overall, test) if base else None
        rows = [MetricDelta(OVERALL, self.trained.overall, base.overall if base else None, overall, test)]
        for key, value in self.trained.extra.items():
            base_value = base.extra.get(key) if base else None
            if base and key in VERDICT_METRICS:
                test = self.test(key)
                rows.append(MetricDelta(key, value, base_value, compare(value, base_value, test), test))
            else:
                rows.append(MetricDelta(key, value, base_value, None))
        return rows

    def verdict(self) -> Change | None:
        """The benchmark's one-word verdict (None without a base model).

        The overall score decides when its paired test rejects. When it does not
        or has no number (a judge that failed on every answer), the reference
        measures decide: improved if one improved significantly and none got
        worse, worse the other way round, mixed if both; "no significant change"
        only when some test ran and none rejected.
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
        if overall == Change.UNTESTED:
            return Change.UNTESTED
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
                "test": _test_json(row.test),
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
                "test": _test_json(row.test),
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


def _test_json(test: Comparison | None) -> dict[str, Any] | None:
    """A paired test as ``--json`` shows it: its name, counts or means, p-value and intervals."""
    return asdict(test) if test is not None else None


def mean(values: list[float]) -> float | None:
    """Arithmetic mean, or None for no values (a group with no scorable items)."""
    return sum(values) / len(values) if values else None
