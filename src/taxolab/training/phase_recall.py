"""Recall on the dev split after each training phase: what the knowledge phase taught, what the skills phase kept.

After training, the checkpoint each phase hands on (for knowledge: the one
the skills phase started from; for the last phase: the result) is scored on
the data run's dev split of held-out pairs (``dev/heldout``, never the test
split the report's headline scores). The scores come from the same
:class:`~taxolab.evaluation.selection.DevSelector` that chose the
checkpoints, so a checkpoint the choice already scored is not scored again;
only a phase with a single checkpoint (which selection takes without scoring)
costs extra time, and that time is recorded as ``seconds``.

When both phases ran, the two results are paired on the same dev questions
and tested with the exact McNemar test (:func:`taxolab.evaluation.stats.compare_paired`):
a drop beyond chance (p < 0.05) means the skills phase lost facts, and the
record says what to change (``mix.knowledge_replay``, the share of knowledge
samples the skills mix replays; LAB's replay of phase-1 data in phase 2).

Every score is also kept in the journal beside its checkpoint
(``checkpoints[i]["dev"][measure]``, see :class:`DevScores`), so a resumed or
re-selected run reuses it and the report shows it as a column.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.console import stderr
from taxolab.evaluation.selection import DevScore, DevSelector
from taxolab.evaluation.stats import Direction, compare_paired, format_p, wilson_interval
from taxolab.training.phases import Journal
from taxolab.training.trainer import PhaseOutcome

PURPOSE = "phase recall"
ADVICE = (
    "replay more of the knowledge mix in the skills phase (raise mix.knowledge_replay and mix again) "
    "or train the skills phase more gently (lower train.skills_learning_rate or train.skills_epochs)"
)


class DevScores:
    """The dev-split scores of a training run's checkpoints, kept in the journal beside each checkpoint.

    ``load`` hands the selectors the scores an earlier process recorded for a
    phase's checkpoints (only those under the selector's own ``key``: the same
    dev questions, asked the same way); ``keep`` writes what the selectors
    know back into the phase's checkpoint list and saves the journal.
    """

    def __init__(self, journal: Journal, selectors: list[DevSelector]) -> None:
        self.journal = journal
        self.selectors = list({id(s): s for s in selectors}.values())

    def load(self, outcome: PhaseOutcome) -> None:
        """Hand the selectors the scores recorded for ``outcome``'s checkpoints."""
        for checkpoint in outcome.checkpoints:
            recorded = checkpoint.get("dev") or {}
            for selector in self.selectors:
                entry = recorded.get(selector.measure)
                if not isinstance(entry, dict) or entry.get("key") != selector.key:
                    continue
                try:
                    selector.remember(Path(checkpoint["path"]), DevScore.from_json(entry))
                except (KeyError, TypeError, ValueError):
                    continue  # an unreadable entry is scored again, never trusted

    def keep(self, outcome: PhaseOutcome) -> None:
        """Record every known score of ``outcome``'s checkpoints in the journal (under its phase's name)."""
        changed = False
        for checkpoint in outcome.checkpoints:
            for selector in self.selectors:
                score = selector.known(Path(checkpoint["path"]))
                if score is None:
                    continue
                entry = score.to_json(selector.key)
                if checkpoint.get("dev", {}).get(selector.measure) != entry:
                    checkpoint.setdefault("dev", {})[selector.measure] = entry
                    changed = True
        if changed:
            self.journal.record_checkpoints(outcome.name, outcome.checkpoints)


@dataclass(frozen=True)
class PhaseFigure:
    """The dev recall of the checkpoint ``phase`` handed on."""

    phase: str
    checkpoint: Path
    score: DevScore

    def to_json(self) -> dict[str, Any]:
        interval = wilson_interval(self.score.count, self.score.n)
        return {
            "phase": self.phase,
            "checkpoint": str(self.checkpoint),
            "learned": self.score.count,
            "n": self.score.n,
            "rate": self.score.value,
            "interval": [interval.low, interval.high],
            "purpose": self.score.purpose,
            "seconds": round(self.score.seconds, 3),
        }


def kept_checkpoints(outcomes: list[PhaseOutcome], selected: Path) -> list[tuple[PhaseOutcome, Path]]:
    """Each phase with the checkpoint it handed on: where the next phase started, and ``selected`` for the last."""
    kept = [(outcome, Path(after.start_model)) for outcome, after in itertools.pairwise(outcomes)]
    return [*kept, (outcomes[-1], Path(selected))] if outcomes else []


def skipped(reason: str) -> dict[str, Any]:
    """The record of a run whose phase recall was not measured, and why."""
    return {"skipped": reason, "phases": [], "lines": [f"recall after each phase not measured: {reason}"]}


def measure_phases(
    outcomes: list[PhaseOutcome], selected: Path, recall: DevSelector, scores: DevScores
) -> dict[str, Any]:
    """Score (or reuse the score of) each phase's handed-on checkpoint with ``recall``; the record for the report.

    Returns ``{"measure", "phases": [PhaseFigure.to_json()...], "comparison",
    "lost_facts", "warning", "lines", "seconds"}``: ``lines`` are what a
    reader is shown ("recall on the dev split after knowledge: 12 of 30;
    after skills: 10 of 30", the intervals and the paired test, and
    ``warning`` when the skills phase lost facts); ``seconds`` is the scoring
    this added to what checkpoint selection had already done. Raises what the
    scorer raises (a checkpoint that cannot be loaded).
    """
    figures: list[PhaseFigure] = []
    for outcome, checkpoint in kept_checkpoints(outcomes, selected):
        scores.load(outcome)
        if recall.known(checkpoint) is None:
            stderr.print(
                f"recall on the dev split after phase {outcome.name}: scoring {checkpoint.name}", highlight=False
            )
        figures.append(PhaseFigure(outcome.name, checkpoint, recall.scored(checkpoint, purpose=PURPOSE)))
        scores.keep(outcome)
    return summarize(figures, recall.description)


def summarize(figures: list[PhaseFigure], measure: str) -> dict[str, Any]:
    """The record of :func:`measure_phases` from its figures (``measure`` names the dev questions)."""
    by_phase = {figure.phase: figure for figure in figures}
    parts = [f"after {f.phase}: {f.score.count} of {f.score.n}" for f in figures]
    lines = [f"recall on the dev split {'; '.join(parts)}"] if figures else []
    intervals = [f"after {f.phase} {_interval_text(f.score)}" for f in figures]
    comparison = None
    p_text = ""
    lost = False
    knowledge, skills = by_phase.get("knowledge"), by_phase.get("skills")
    if knowledge and skills and knowledge.score.n == skills.score.n and knowledge.score.n:
        paired = compare_paired(knowledge.score.right, skills.score.right)
        p_text = format_p(paired.p_value)
        comparison = {
            "test": paired.test,
            "p_value": paired.p_value,
            "kept": paired.both,
            "lost": paired.only_base,
            "gained": paired.only_trained,
            "neither": paired.neither,
            "change": paired.change,
        }
        lost = paired.change == Direction.WORSE
    if figures:
        lines.append("95% Wilson intervals: " + ", ".join(intervals))
    if comparison:
        lines.append(
            f"from knowledge to skills: {comparison['lost']} lost, {comparison['gained']} gained, "
            f"{comparison['kept']} kept of {knowledge.score.n if knowledge else 0} dev questions "
            f"({comparison['test']} {p_text})"
        )
    warning = None
    if lost and comparison:
        warning = (
            f"the skills phase lost facts the knowledge phase had learned ({comparison['lost']} lost, "
            f"{comparison['gained']} gained on the same dev questions, more than chance): {ADVICE}"
        )
        lines.append(warning)
    extra = {str(f.checkpoint): f.score.seconds for f in figures if f.score.purpose == PURPOSE}
    return {
        "measure": measure,
        "phases": [figure.to_json() for figure in figures],
        "comparison": comparison,
        "lost_facts": lost,
        "warning": warning,
        "lines": lines,
        "seconds": round(sum(extra.values()), 3),
    }


def _interval_text(score: DevScore) -> str:
    interval = wilson_interval(score.count, score.n)
    return f"{interval.low:.0%}-{interval.high:.0%}"
