"""Checkpoint selection on the dev split: which of several checkpoints to keep, never looking at the test split.

The mix step splits each knowledge leaf's held-out questions into ``dev/``
and the test split (:mod:`taxolab.mixing.splits`); the report scores the test
split. A selector made here reads only ``<data run>/dev/``:

- ``mmlu_branch``: accuracy on ``dev/test/*.jsonl`` (multiple choice, log-likelihood);
- ``recall``: facts learned (:func:`taxolab.evaluation.keyfacts.score_answer`) on
  ``dev/heldout/*.jsonl``, answered closed-book by greedy generation with the
  checkpoint's own weights (after ``mix.system_prompt``).

The last checkpoint is kept unless an earlier one answers more dev questions
*beyond chance*: exact McNemar on the paired right/wrong answers (the
discordant questions, earlier-only-right against last-only-right), two-sided
p < 0.05. A dev split holds 7-45 held-out pairs per leaf, and picking the
highest score among 4-8 checkpoints on so few questions chooses by noise: a
lapis lazuli run chose epoch 2 of 8 on 4/9 against 3/9 for the last. Among
earlier checkpoints that do beat the last, the highest score wins, ties to
the later one (more training for the same score). A data run without a dev
split gives no selector (training falls back to the validation loss), so the
test split is never used to choose.

A selector scores each checkpoint once: its :class:`DevScore` (right or wrong
per dev question) is kept in :attr:`DevSelector.scores`, so the recall after
each training phase (:mod:`taxolab.training.phase_recall`) reuses what the
choice computed, and a journal can hand scores of an earlier process back
(:meth:`DevSelector.remember`) under the selector's :attr:`DevSelector.key`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from taxolab.console import stderr
from taxolab.datarun import HELDOUT, TEST, DataRun
from taxolab.hashing import hash_bytes, hash_json, short

SelectBy = Literal["mmlu_branch", "recall"]


@dataclass(frozen=True)
class DevScore:
    """One checkpoint on the dev split: ``right[i]`` is dev question i (file order) right, in ``seconds`` of scoring.

    ``purpose`` says why it was scored (``"selection"`` or ``"phase recall"``),
    so the cost a report shows is the cost of the figure that asked for it.
    """

    right: tuple[bool, ...]
    seconds: float = 0.0
    purpose: str = "selection"

    @property
    def count(self) -> int:
        """Questions right."""
        return sum(self.right)

    @property
    def n(self) -> int:
        """Questions asked."""
        return len(self.right)

    @property
    def value(self) -> float:
        """Share right, 0..1 (0 for no questions)."""
        return self.count / self.n if self.right else 0.0

    def to_json(self, key: str) -> dict[str, Any]:
        """The journal form: counts, seconds, purpose, the dev ``key`` it belongs to and ``right`` as a 0/1 string."""
        return {
            "right": self.count,
            "n": self.n,
            "value": self.value,
            "seconds": round(self.seconds, 3),
            "purpose": self.purpose,
            "key": key,
            "per_question": "".join("1" if r else "0" for r in self.right),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DevScore:
        """Back from :meth:`to_json`; raises KeyError/ValueError on another shape."""
        flags = str(data["per_question"])
        if set(flags) - {"0", "1"} or len(flags) != int(data["n"]):
            raise ValueError(f"not a per-question record: {flags!r}")
        return cls(
            tuple(c == "1" for c in flags), float(data.get("seconds", 0.0)), str(data.get("purpose", "selection"))
        )


@dataclass
class DevSelector:
    """``selector(checkpoints) -> best``; ``description`` is how the report names the choice.

    ``measure`` is what is scored (``recall`` or ``mmlu_branch``); ``key`` is a
    short hash of the dev questions and of the settings that shape the answers
    (a score under another key was taken on other questions and is not reused).
    ``score(checkpoint)`` does the work; :meth:`scored` does it at most once per checkpoint.
    """

    description: str
    score: Callable[[Path], tuple[bool, ...]]
    measure: SelectBy = "recall"
    key: str = ""
    scores: dict[str, DevScore] = field(default_factory=dict)  # resolved checkpoint path -> its score

    def scored(self, checkpoint: Path, *, purpose: str = "selection") -> DevScore:
        """``checkpoint``'s score: the one already taken, else scored now (timed, noted as ``purpose``)."""
        name = _name(checkpoint)
        if name not in self.scores:
            started = time.perf_counter()
            right = tuple(bool(r) for r in self.score(Path(checkpoint)))
            self.scores[name] = DevScore(right, time.perf_counter() - started, purpose)
        return self.scores[name]

    def known(self, checkpoint: Path) -> DevScore | None:
        """The score taken of ``checkpoint`` so far, or None."""
        return self.scores.get(_name(checkpoint))

    def remember(self, checkpoint: Path, score: DevScore) -> None:
        """Take ``score`` as ``checkpoint``'s (one an earlier process computed under the same :attr:`key`)."""
        self.scores.setdefault(_name(checkpoint), score)

    def __call__(self, checkpoints: list[Path]) -> Path:
        """The checkpoint to keep among ``checkpoints`` (training order): the last unless an earlier one beats it.

        Every checkpoint is scored (the scores also feed the report's recall per
        epoch); the rule is the module's. Raises ValueError on an empty list.
        """
        if not checkpoints:
            raise ValueError("no checkpoints to choose from")
        if len(checkpoints) == 1:
            return checkpoints[0]
        stderr.print(f"choosing among {len(checkpoints)} checkpoints by {self.description}", highlight=False)
        scores = [self.scored(checkpoint) for checkpoint in checkpoints]
        for checkpoint, score in zip(checkpoints, scores, strict=True):
            stderr.print(f"  {Path(checkpoint).name}: {score.value:.3f}", highlight=False)
        last = scores[-1]
        best, best_score, best_p = len(checkpoints) - 1, last, 1.0
        for i, score in enumerate(scores[:-1]):
            p = beats_beyond_chance(score, last)
            if p is not None and score.value >= best_score.value:
                best, best_score, best_p = i, score, p
        last_name = Path(checkpoints[-1]).name
        if best == len(checkpoints) - 1:
            stderr.print(
                f"  kept {last_name}, the last: no earlier checkpoint answers more dev questions beyond chance "
                "(exact McNemar, p < 0.05 needed)",
                highlight=False,
            )
        else:
            stderr.print(
                f"  chose {Path(checkpoints[best]).name}: {best_score.count}/{best_score.n} against "
                f"{last.count}/{last.n} for {last_name} (exact McNemar p={best_p:.3f})",
                highlight=False,
            )
        return checkpoints[best]


def beats_beyond_chance(earlier: DevScore, last: DevScore) -> float | None:
    """The exact McNemar p-value when ``earlier`` answers more of the same dev questions than ``last`` at p < 0.05.

    None when it does not (fewer or equal questions right, or a p-value of 0.05
    or more): :func:`taxolab.evaluation.stats.compare_paired` with ``last`` as the
    base, the comparison the phase-recall check makes. Raises ValueError when the
    two scored different numbers of questions (or none).
    """
    from taxolab.evaluation.stats import Direction, compare_paired

    paired = compare_paired(last.right, earlier.right)
    return paired.p_value if paired.change == Direction.IMPROVED else None


def _name(checkpoint: Path) -> str:
    return str(Path(checkpoint).resolve())


def dev_questions(data_dir: Path, how: SelectBy) -> list[Path]:
    """The dev split's files ``how`` reads (``dev/test`` or ``dev/heldout``); [] when there are none."""
    return DataRun(Path(data_dir)).dev_files(TEST if how == "mmlu_branch" else HELDOUT)


def dev_selector(
    data_dir: Path,
    how: SelectBy | Literal["auto"],
    *,
    batch_size: int = 8,
    device: str = "auto",
    system_prompt: str | None = None,
    max_tokens: int = 64,
    generation_batch_size: int = 32,
) -> DevSelector | None:
    """A selector on ``data_dir``'s dev split, or None when the split has nothing ``how`` can read.

    ``auto`` is ``recall`` when ``dev/heldout`` has pairs (the report's headline
    measure), else ``mmlu_branch`` when ``dev/test`` has questions. Only files
    under ``data_dir/dev`` are read.
    """
    if how == "auto":
        how = "recall" if dev_questions(data_dir, "recall") else "mmlu_branch"
    files = dev_questions(data_dir, how)
    if not files:
        return None
    if how == "mmlu_branch":
        return _mmlu_branch(files, batch_size=batch_size, device=device)
    return _recall(
        files,
        batch_size=generation_batch_size,
        device=device,
        system_prompt=system_prompt,
        max_tokens=max_tokens,
    )


def _dev_key(files: list[Path], **shaping: Any) -> str:
    """A short hash of the dev files' bytes and the settings that shape the answers."""
    return short(hash_json({"files": [hash_bytes(f) for f in files], **shaping}))


def _mmlu_branch(files: list[Path], *, batch_size: int, device: str) -> DevSelector:
    from taxolab.evaluation.loglik import load_scorer
    from taxolab.evaluation.mmlu_branch import hits, load_questions

    questions = load_questions(files)

    def score(checkpoint: Path) -> tuple[bool, ...]:
        return tuple(hits(load_scorer(checkpoint, batch_size=batch_size, device=device), questions))

    return DevSelector(
        f"mmlu_branch accuracy on the dev split ({len(questions)} questions)",
        score,
        "mmlu_branch",
        _dev_key(files, measure="mmlu_branch"),
    )


def _recall(
    files: list[Path], *, batch_size: int, device: str, system_prompt: str | None, max_tokens: int
) -> DevSelector:
    from taxolab.evaluation.keyfacts import score_answer
    from taxolab.evaluation.loglik import load_scorer
    from taxolab.evaluation.recall import load_held_out

    items = [item for file in files for item in load_held_out(file, prefix=f"dev:{file.stem}")]
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    conversations = [[*system, {"role": "user", "content": item.question}] for item in items]

    def score(checkpoint: Path) -> tuple[bool, ...]:
        scorer = load_scorer(checkpoint, batch_size=batch_size, device=device)
        answers = scorer.answer(conversations, max_new_tokens=max_tokens, label=f"recall on dev: {checkpoint.name}")
        return tuple(
            score_answer(answer, item.references[0] or "", item.question).learned
            for answer, item in zip(answers, items, strict=True)
        )

    key = _dev_key(files, measure="recall", system_prompt=system_prompt or "", max_tokens=max_tokens)
    return DevSelector(f"recall on the dev split ({len(items)} held-out pairs)", score, "recall", key)
