"""How evaluation numbers read, the same in the terminal and in the HTML report."""

from __future__ import annotations

from taxolab.evaluation.results import BenchmarkResult

EXTRA_LABELS = {
    "turn_1": "turn 1",
    "turn_2": "turn 2",
    "judge_error_rate": "judge error rate",
    "answer_error_rate": "unanswered (model errors)",
    "token_f1": "token F1",
    "rouge_l": "ROUGE-L",
}
RATE_KEYS = {"judge_error_rate", "answer_error_rate", "token_f1", "rouge_l"}
PERCENT_KEYS = {"judge_error_rate", "answer_error_rate"}


def fmt_score(value: float | None, result: BenchmarkResult) -> str:
    """Accuracies as percentages, judge scores with two decimals, missing as a dash."""
    if value is None:
        return "-"
    if result.metric == "accuracy":
        return f"{value * 100:.1f}%"
    return f"{value:.2f}"


def fmt_delta(value: float | None, result: BenchmarkResult) -> str:
    if value is None:
        return ""
    if result.metric == "accuracy":
        return f"{value * 100:+.1f} pt"
    return f"{value:+.2f}"


def fmt_extra(key: str, value: float | None, result: BenchmarkResult) -> str:
    if value is None:
        return "-"
    if key in RATE_KEYS:
        return f"{value * 100:.1f}%" if key in PERCENT_KEYS else f"{value:.3f}"
    return fmt_score(value, result)


def headline_rows(result: BenchmarkResult) -> list[tuple[str, str, str, str]]:
    """(measure, base, trained, delta) rows: overall first, then the benchmark's extras."""
    base = result.base
    rows = []
    delta = (
        None
        if base is None or base.overall is None or result.trained.overall is None
        else result.trained.overall - base.overall
    )
    rows.append(
        (
            f"overall {result.metric}",
            fmt_score(base.overall, result) if base else "",
            fmt_score(result.trained.overall, result),
            fmt_delta(delta, result),
        )
    )
    for key, value in result.trained.extra.items():
        base_value = base.extra.get(key) if base else None
        diff = None if value is None or base_value is None else value - base_value
        rows.append(
            (
                EXTRA_LABELS.get(key, key),
                fmt_extra(key, base_value, result) if base else "",
                fmt_extra(key, value, result),
                _extra_delta(key, diff, result),
            )
        )
    return rows


def _extra_delta(key: str, diff: float | None, result: BenchmarkResult) -> str:
    if diff is None:
        return ""
    if key in PERCENT_KEYS:
        return f"{diff * 100:+.1f} pt"
    return f"{diff:+.3f}" if key in RATE_KEYS else fmt_delta(diff, result)
