"""How sure is a base-vs-trained difference? 95% intervals and paired tests on the same questions.

Both models answer the same questions, so every comparison here is *paired*:

- right/wrong per question (facts learned, multiple-choice accuracy):
  :func:`compare_paired` -- each rate with a Wilson 95% interval, the exact
  McNemar test (a two-sided binomial test of the discordant pairs, "only
  trained right" vs "only base right", at p = 1/2; McNemar 1947, the exact form
  as in Fagerland et al. 2013), and the counts behind it (both right, only
  trained, only base, neither);
- a score per question (judge grade, token F1, key recall):
  :func:`compare_scores` -- the mean difference with a paired percentile
  bootstrap 95% interval (questions resampled with their two scores, fixed
  seed, so a rerun prints the same interval) and a two-sided bootstrap p-value.

The change word follows the test (:func:`change_of`): "improved" only when
p < ``alpha`` (0.05) and the difference is positive, "worse" when it is
negative, else "no significant change". scipy gives the binomial test and the
Wilson interval; the bootstrap is ten lines of numpy because
``scipy.stats.bootstrap`` returns no p-value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

ALPHA = 0.05
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240515
_BOOTSTRAP_CELLS = 2_000_000  # resampled values held in memory at once (16 MB of int64 indices)


class Direction:
    """The three words a paired test may give a difference (the values of :class:`results.Change`)."""

    IMPROVED = "improved"
    WORSE = "worse"
    NO_CHANGE = "no significant change"


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval ``[low, high]`` at ``level`` (0.95)."""

    low: float
    high: float
    level: float = CONFIDENCE


@dataclass(frozen=True)
class PairedComparison:
    """Right/wrong of two models on the same ``n`` questions, and the exact McNemar test.

    ``both``/``only_trained``/``only_base``/``neither`` count questions by who
    got them right; rates are shares of ``n`` with Wilson intervals;
    ``difference`` = trained rate - base rate with its paired bootstrap interval;
    ``p_value`` is the exact McNemar (two-sided) p-value; ``change`` its word.
    """

    n: int
    both: int
    only_trained: int
    only_base: int
    neither: int
    base_rate: float
    trained_rate: float
    base_interval: Interval
    trained_interval: Interval
    difference: float
    difference_interval: Interval
    p_value: float
    change: str
    test: str = "exact McNemar"

    def counts_line(self) -> str:
        """The counts behind the verdict: "both 12, only trained 9, only base 1, neither 18 (exact McNemar p=0.021)"."""
        return (
            f"both {self.both}, only trained {self.only_trained}, only base {self.only_base}, "
            f"neither {self.neither} ({self.test} {format_p(self.p_value)})"
        )


@dataclass(frozen=True)
class ScoreComparison:
    """Mean scores of two models on the same ``n`` questions, the paired difference and its bootstrap test."""

    n: int
    base_mean: float
    trained_mean: float
    difference: float
    difference_interval: Interval
    p_value: float
    change: str
    test: str = "paired bootstrap"

    def counts_line(self) -> str:
        """ "n=40, mean difference +0.12 [0.03, 0.21] (paired bootstrap p=0.012)"."""
        low, high = self.difference_interval.low, self.difference_interval.high
        return (
            f"n={self.n}, mean difference {self.difference:+.3f} [{low:+.3f}, {high:+.3f}] "
            f"({self.test} {format_p(self.p_value)})"
        )


def format_p(p: float) -> str:
    """A p-value as a reader wants it: "p=0.016", "p<0.001" below a thousandth."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def change_of(difference: float, p_value: float, alpha: float = ALPHA) -> str:
    """The change word of a tested difference: improved / worse only when ``p_value < alpha``."""
    if p_value < alpha and difference > 0:
        return Direction.IMPROVED
    if p_value < alpha and difference < 0:
        return Direction.WORSE
    return Direction.NO_CHANGE


def wilson_interval(successes: int, n: int, level: float = CONFIDENCE) -> Interval:
    """Wilson score interval of a proportion (scipy); ``[0, 1]`` when ``n`` is 0."""
    if n == 0:
        return Interval(0.0, 1.0, level)
    ci = binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return Interval(float(ci.low), float(ci.high), level)


def mcnemar_exact(only_trained: int, only_base: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of ``only_trained`` of the discordant pairs at 1/2.

    1.0 when there is no discordant pair (nothing tells the models apart).
    """
    discordant = only_trained + only_base
    if discordant == 0:
        return 1.0
    return float(binomtest(only_trained, discordant, 0.5).pvalue)


def _check_paired(base: Sequence[object], trained: Sequence[object], what: str) -> None:
    """Raise ValueError unless both models have one ``what`` for each of the same, non-zero number of questions."""
    if len(base) != len(trained):
        raise ValueError(
            f"paired comparison needs one {what} per question from each model: {len(base)} vs {len(trained)}"
        )
    if not base:
        raise ValueError("paired comparison of no questions")


def compare_paired(
    base: Sequence[bool], trained: Sequence[bool], *, alpha: float = ALPHA, seed: int = BOOTSTRAP_SEED
) -> PairedComparison:
    """Compare two models' right/wrong on the same questions (``base[i]`` and ``trained[i]`` answer question i).

    Raises ValueError when the sequences differ in length or are empty.
    """
    _check_paired(base, trained, "result")
    pairs = list(zip((bool(b) for b in base), (bool(t) for t in trained), strict=True))
    both = sum(1 for b, t in pairs if b and t)
    only_trained = sum(1 for b, t in pairs if t and not b)
    only_base = sum(1 for b, t in pairs if b and not t)
    n = len(pairs)
    base_right, trained_right = both + only_base, both + only_trained
    p = mcnemar_exact(only_trained, only_base)
    difference = (trained_right - base_right) / n
    diffs = np.array([float(t) - float(b) for b, t in pairs])
    return PairedComparison(
        n=n,
        both=both,
        only_trained=only_trained,
        only_base=only_base,
        neither=n - both - only_trained - only_base,
        base_rate=base_right / n,
        trained_rate=trained_right / n,
        base_interval=wilson_interval(base_right, n),
        trained_interval=wilson_interval(trained_right, n),
        difference=difference,
        difference_interval=_bootstrap(diffs, seed)[0],
        p_value=p,
        change=change_of(difference, p, alpha),
    )


def compare_scores(
    base: Sequence[float], trained: Sequence[float], *, alpha: float = ALPHA, seed: int = BOOTSTRAP_SEED
) -> ScoreComparison:
    """Compare two models' scores on the same questions by a paired bootstrap of the mean difference.

    Raises ValueError when the sequences differ in length or are empty.
    """
    _check_paired(base, trained, "score")
    b, t = np.asarray(base, dtype=float), np.asarray(trained, dtype=float)
    diffs = t - b
    interval, p = _bootstrap(diffs, seed)
    difference = float(diffs.mean())
    return ScoreComparison(
        n=len(diffs),
        base_mean=float(b.mean()),
        trained_mean=float(t.mean()),
        difference=difference,
        difference_interval=interval,
        p_value=p,
        change=change_of(difference, p, alpha),
    )


def _bootstrap(diffs: np.ndarray, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[Interval, float]:
    """Percentile 95% interval and two-sided p-value of the mean of paired differences (questions resampled).

    p = 2 * min(share of resampled means <= 0, share >= 0), capped at 1; all
    differences equal to zero give p = 1.
    """
    if not diffs.any():
        return Interval(0.0, 0.0), 1.0
    rng = np.random.default_rng(seed)
    n = len(diffs)
    chunk = max(1, _BOOTSTRAP_CELLS // n)  # a full MMLU (14k questions) x 2000 resamples would be 224 MB at once
    means = np.concatenate(
        [
            diffs[rng.integers(0, n, size=(min(chunk, resamples - start), n))].mean(axis=1)
            for start in range(0, resamples, chunk)
        ]
    )
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    p = min(1.0, 2 * min(float((means <= 0).mean()), float((means >= 0).mean())))
    return Interval(float(low), float(high)), p
