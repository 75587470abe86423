"""Paired tests and 95% intervals of base-vs-trained figures; verdict words follow the test."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from taxolab.evaluation.results import BenchmarkResult, Change, ModelScores
from taxolab.evaluation.stats import compare_paired, compare_scores, wilson_interval
from taxolab.reports.eval_format import counts_lines, headline_rows


def test_exact_mcnemar_on_the_discordant_pairs() -> None:
    # 50 of 131 vs 5 of 131 (issue 17): 45 only-trained, 0 only-base
    base = [i < 5 for i in range(131)]
    trained = [i < 50 for i in range(131)]
    result = compare_paired(base, trained)
    assert (result.both, result.only_trained, result.only_base, result.neither) == (5, 45, 0, 81)
    assert result.p_value == pytest.approx(binomtest(45, 45, 0.5).pvalue)
    assert result.change == "improved"
    assert result.trained_interval.low < 50 / 131 < result.trained_interval.high
    assert result.difference_interval.low > 0
    # the same totals from mostly different questions: 6 only-trained, 5 only-base -> no evidence
    swapped = compare_paired([i < 5 for i in range(131)], [5 <= i < 11 for i in range(131)])
    assert swapped.change == "no significant change" and swapped.p_value == pytest.approx(1.0)
    assert compare_paired(trained, base).change == "worse"


def test_wilson_interval_matches_the_textbook() -> None:
    # Wilson 95% interval of 8/20: 0.219 to 0.613 (Newcombe 1998, method 3)
    interval = wilson_interval(8, 20)
    assert interval.low == pytest.approx(0.2188, abs=1e-3) and interval.high == pytest.approx(0.6134, abs=1e-3)


def test_paired_bootstrap_is_reproducible_and_follows_the_sign() -> None:
    base = [0.30, 0.31, 0.29, 0.33, 0.30, 0.32, 0.31, 0.30, 0.28, 0.31] * 4
    close = [b + (0.01 if i % 2 else -0.01) for i, b in enumerate(base)]
    higher = [b + 0.05 + (0.01 if i % 2 else -0.01) for i, b in enumerate(base)]
    assert compare_scores(base, close) == compare_scores(base, close)  # fixed seed
    assert compare_scores(base, close).change == "no significant change"  # "0.32 vs 0.31" style
    up = compare_scores(base, higher)
    assert up.change == "improved" and up.difference_interval.low > 0
    assert compare_scores(higher, base).change == "worse"
    assert compare_scores(base, base).p_value == 1.0
    with pytest.raises(ValueError, match="one score per question"):
        compare_scores(base, base[:-1])


def test_benchmark_verdict_and_counts_come_from_the_paired_test() -> None:
    trained = ModelScores("t", None, {"a": None, "b": None}, {"a": 20, "b": 20})
    base = ModelScores("b", None, {"a": None, "b": None}, {"a": 20, "b": 20})
    for i in range(40):
        group = "a" if i < 20 else "b"
        base.add_item(f"q{i}", group, overall=0.0)
        trained.add_item(f"q{i}", group, overall=float(i < 12 or i == 25))  # a: 12 of 20, b: 1 of 20
    trained.overall, base.overall = 13 / 40, 0.0
    trained.groups, base.groups = {"a": 12 / 20, "b": 1 / 20}, {"a": 0.0, "b": 0.0}
    result = BenchmarkResult("mmlu_branch", "accuracy", (0.0, 1.0), trained, base)
    assert result.verdict() == Change.IMPROVED
    assert {row.group: row.change for row in result.comparison()} == {"a": Change.IMPROVED, "b": Change.UNCHANGED}
    overall = headline_rows(result)[0]
    assert overall[3].startswith("+32.5 pt [+") and overall[4] == "improved (p<0.001)"
    assert counts_lines(result)[0].startswith("overall: both 0, only trained 13, only base 0, neither 27")
    data = result.to_json()
    assert data["metrics"][0]["test"]["only_trained"] == 13
    assert data["comparison"][1]["change"] == "no significant change"


def test_no_per_question_scores_is_untested_not_unchanged() -> None:
    """lm-eval's MMLU gives totals only: the verdict says it could not test, never "no change"."""
    result = BenchmarkResult(
        "mmlu", "accuracy", (0.0, 1.0), ModelScores("t", 0.40, {"x": 0.40}), ModelScores("b", 0.30, {"x": 0.30})
    )
    assert result.verdict() == Change.UNTESTED
    assert result.comparison()[0].change == Change.UNTESTED
