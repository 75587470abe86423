"""How evaluation numbers read, the same in the terminal and in the HTML report."""

from __future__ import annotations

from taxolab.evaluation.results import (
    LEARNED_METRIC,
    OVERALL,
    SOURCE_HELD_OUT,
    BenchmarkResult,
    Change,
    Comparison,
    ModelScores,
)
from taxolab.evaluation.stats import PairedComparison, format_p

EXTRA_LABELS = {
    "turn_1": "turn 1",
    "turn_2": "turn 2",
    "judge_error_rate": "judge error rate",
    "answer_error_rate": "unanswered (model errors)",
    "key_recall": "key-content recall",
    "token_f1": "token F1",
    "rouge_l": "ROUGE-L",
    "judge_score": "judge score (1-5)",
}
RATE_KEYS = {"judge_error_rate", "answer_error_rate", "token_f1", "rouge_l", "key_recall"}
PERCENT_KEYS = {"judge_error_rate", "answer_error_rate"}
PLAIN_KEYS = {"judge_score"}


def fmt_score(value: float | None, result: BenchmarkResult, count: int | None = None) -> str:
    """Accuracies as percentages, facts learned as "x/n", judge scores with two decimals, missing as a dash."""
    if value is None:
        return "-"
    if result.metric == LEARNED_METRIC and count:
        return f"{round(value * count)}/{count}"
    if result.metric in ("accuracy", LEARNED_METRIC):
        return f"{value * 100:.1f}%"
    return f"{value:.2f}"


def fmt_delta(value: float | None, result: BenchmarkResult, count: int | None = None) -> str:
    if value is None:
        return ""
    if result.metric == LEARNED_METRIC and count:
        return f"{round(value * count):+d}"
    if result.metric in ("accuracy", LEARNED_METRIC):
        return f"{value * 100:+.1f} pt"
    return f"{value:+.2f}"


def fmt_extra(key: str, value: float | None, result: BenchmarkResult) -> str:
    if value is None:
        return "-"
    if key in PLAIN_KEYS:
        return f"{value:.2f}"
    if key in RATE_KEYS:
        return f"{value * 100:.1f}%" if key in PERCENT_KEYS else f"{value:.3f}"
    return fmt_score(value, result)


def total(scores: ModelScores | None) -> int:
    """How many questions a model was scored on (the sum of the group counts)."""
    return sum(scores.counts.values()) if scores else 0


def headline_rows(result: BenchmarkResult) -> list[tuple[str, str, str, str, str]]:
    """(measure, base, trained, delta, verdict) rows: overall first, then the benchmark's extras.

    The verdict is each measure's own paired test (its word and p-value, "no
    score" when a side has no number); the delta carries its 95% interval.
    Empty for error rates and without a base.
    """
    n = total(result.trained)
    rows = []
    for metric in result.metric_changes():
        change = metric.change.value if metric.change else ""
        if metric.name == "overall":
            base = fmt_score(metric.base, result, n) if result.base else ""
            rows.append(
                (
                    f"overall {result.metric}",
                    base,
                    fmt_score(metric.trained, result, n),
                    fmt_delta(metric.delta, result, n) + fmt_interval(metric.test, result),
                    change + _p(metric.test),
                )
            )
            continue
        rows.append(
            (
                EXTRA_LABELS.get(metric.name, metric.name),
                fmt_extra(metric.name, metric.base, result) if result.base else "",
                fmt_extra(metric.name, metric.trained, result),
                _extra_delta(metric.name, metric.delta, result) + fmt_interval(metric.test, result, metric.name),
                change + _p(metric.test),
            )
        )
    return rows


def _p(test: Comparison | None) -> str:
    return f" ({format_p(test.p_value)})" if test is not None else ""


def fmt_interval(
    test: Comparison | None, result: BenchmarkResult, measure: str = OVERALL, count: int | None = None
) -> str:
    """The 95% interval of a difference, in the unit of its delta: " [+3, +11]" facts of ``count`` (default:
    all questions), " [+5.0, +30.0] pt", " [+0.02, +0.11]"; empty without a test."""
    if test is None:
        return ""
    low, high = test.difference_interval.low, test.difference_interval.high
    n = count or total(result.trained)
    if measure == OVERALL and result.metric == LEARNED_METRIC and n:
        return f" [{round(low * n):+d}, {round(high * n):+d}]"  # in facts, like the delta
    percent = (measure == OVERALL and result.metric in ("accuracy", LEARNED_METRIC)) or measure in PERCENT_KEYS
    if percent:
        return f" [{low * 100:+.1f}, {high * 100:+.1f}] pt"
    digits = 3 if measure in RATE_KEYS else 2
    return f" [{low:+.{digits}f}, {high:+.{digits}f}]"


def counts_lines(result: BenchmarkResult) -> list[str]:
    """The counts behind the overall verdict, the line a reader checks it by.

    Right/wrong measures: "overall: both 3, only trained 9, only base 1, neither 27
    (exact McNemar p=0.021); base 10.0% [4.0-23.1], trained 30.0% [18.1-45.4]
    (95% Wilson)". Scores: "overall: n=40, mean difference +0.12 [+0.03, +0.21]
    (paired bootstrap p=0.012)". Empty without a base or a paired test.
    """
    test = result.test(OVERALL) if result.base is not None else None
    if test is None:
        return []
    line = f"{OVERALL}: {test.counts_line()}"
    if isinstance(test, PairedComparison):
        b, t = test.base_interval, test.trained_interval
        line += (
            f"; base {test.base_rate * 100:.1f}% [{b.low * 100:.1f}-{b.high * 100:.1f}], "
            f"trained {test.trained_rate * 100:.1f}% [{t.low * 100:.1f}-{t.high * 100:.1f}] (95% Wilson)"
        )
    return [line]


def learned_counts(scores: ModelScores | None) -> tuple[int, int] | None:
    """(facts learned, facts asked) of one model on recall, or None without a score."""
    if scores is None or scores.overall is None:
        return None
    n = total(scores)
    return round(scores.overall * n), n


def knowledge_headline(result: BenchmarkResult) -> str | None:
    """The line a knowledge run leads with: "learned 9 of 20 held-out facts (base: 1 of 20; learned, exact McNemar
    p=0.008)" -- the word after "base" is the paired test's ("learned", "forgot", "no significant change").

    None for any benchmark but recall. When recall had no held-out pairs and
    asked the seed examples, the line says so: those are in the training set.
    """
    if result.metric != LEARNED_METRIC:
        return None
    trained = learned_counts(result.trained)
    if trained is None:
        return None
    what = "held-out facts" if result.source == SOURCE_HELD_OUT else "seed examples (seen in training)"
    verb = "learned" if result.source == SOURCE_HELD_OUT else "recalled"
    line = f"{verb} {trained[0]} of {trained[1]} {what}"
    base = learned_counts(result.base)
    if base is not None:
        line += f" (base: {base[0]} of {base[1]}"
        test = result.test(OVERALL)
        if test is not None:
            word = {Change.IMPROVED: "learned", Change.REGRESSED: "forgot"}.get(Change(test.change), test.change)
            line += f"; {word}, {test.test} {format_p(test.p_value)}"
        line += ")"
    return line


def _extra_delta(key: str, diff: float | None, result: BenchmarkResult) -> str:
    if diff is None:
        return ""
    if key in PERCENT_KEYS:
        return f"{diff * 100:+.1f} pt"
    if key in PLAIN_KEYS:
        return f"{diff:+.2f}"
    return f"{diff:+.3f}" if key in RATE_KEYS else fmt_delta(diff, result)
