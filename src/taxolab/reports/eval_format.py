"""How evaluation numbers read, the same in the terminal and in the HTML report."""

from __future__ import annotations

from taxolab.evaluation.results import LEARNED_METRIC, SOURCE_HELD_OUT, BenchmarkResult, ModelScores

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

    The verdict is each measure's own (min-delta rule per measure, "no score"
    when a side has no number); empty for error rates and without a base.
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
                    fmt_delta(metric.delta, result, n),
                    change,
                )
            )
            continue
        rows.append(
            (
                EXTRA_LABELS.get(metric.name, metric.name),
                fmt_extra(metric.name, metric.base, result) if result.base else "",
                fmt_extra(metric.name, metric.trained, result),
                _extra_delta(metric.name, metric.delta, result),
                change,
            )
        )
    return rows


def learned_counts(scores: ModelScores | None) -> tuple[int, int] | None:
    """(facts learned, facts asked) of one model on recall, or None without a score."""
    if scores is None or scores.overall is None:
        return None
    n = total(scores)
    return round(scores.overall * n), n


def knowledge_headline(result: BenchmarkResult) -> str | None:
    """The line a knowledge run leads with: "learned 3 of 20 held-out facts (base: 0 of 20)".

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
        line += f" (base: {base[0]} of {base[1]})"
    return line


def _extra_delta(key: str, diff: float | None, result: BenchmarkResult) -> str:
    if diff is None:
        return ""
    if key in PERCENT_KEYS:
        return f"{diff * 100:+.1f} pt"
    if key in PLAIN_KEYS:
        return f"{diff:+.2f}"
    return f"{diff:+.3f}" if key in RATE_KEYS else fmt_delta(diff, result)
