"""Checkpoint selection on the dev split: which of several checkpoints to keep, never looking at the test split.

The mix step splits each knowledge leaf's held-out questions into ``dev/``
and the test split (:mod:`taxolab.mixing.splits`); the report scores the test
split. A selector made here reads only ``<data run>/dev/``:

- ``mmlu_branch``: accuracy on ``dev/test/*.jsonl`` (multiple choice, log-likelihood);
- ``recall``: facts learned (:func:`taxolab.evaluation.keyfacts.score_answer`) on
  ``dev/heldout/*.jsonl``, answered closed-book by greedy generation with the
  checkpoint's own weights (after ``mix.system_prompt``).

Ties go to the later checkpoint (more training for the same score). A data
run without a dev split gives no selector (training falls back to the
validation loss), so the test split is never used to choose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from taxolab.console import stderr
from taxolab.evaluation.datarun import DEV_SPLIT

SelectBy = Literal["mmlu_branch", "recall"]


@dataclass
class DevSelector:
    """``selector(checkpoints) -> best``; ``description`` is how the report names the choice."""

    description: str
    score: Callable[[Path], float]

    def __call__(self, checkpoints: list[Path]) -> Path:
        if not checkpoints:
            raise ValueError("no checkpoints to choose from")
        if len(checkpoints) == 1:
            return checkpoints[0]
        stderr.print(f"choosing among {len(checkpoints)} checkpoints by {self.description}", highlight=False)
        best, best_score = checkpoints[-1], float("-inf")
        for checkpoint in checkpoints:
            value = self.score(checkpoint)
            stderr.print(f"  {checkpoint.name}: {value:.3f}", highlight=False)
            if value >= best_score:
                best, best_score = checkpoint, value
        return best


def dev_questions(data_dir: Path, how: SelectBy) -> list[Path]:
    """The dev split's files ``how`` reads (``dev/test`` or ``dev/heldout``); [] when there are none."""
    part = "test" if how == "mmlu_branch" else "heldout"
    return sorted((Path(data_dir) / DEV_SPLIT / part).glob("*.jsonl"))


def dev_selector(
    data_dir: Path,
    how: SelectBy | Literal["auto"],
    *,
    batch_size: int = 8,
    device: str = "auto",
    system_prompt: str | None = None,
    max_tokens: int = 64,
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
    return _recall(files, batch_size=batch_size, device=device, system_prompt=system_prompt, max_tokens=max_tokens)


def _mmlu_branch(files: list[Path], *, batch_size: int, device: str) -> DevSelector:
    from taxolab.evaluation.loglik import load_scorer
    from taxolab.evaluation.mmlu_branch import accuracy, load_questions

    questions = load_questions(files)

    def score(checkpoint: Path) -> float:
        return accuracy(load_scorer(checkpoint, batch_size=batch_size, device=device), questions)

    return DevSelector(f"mmlu_branch accuracy on the dev split ({len(questions)} questions)", score)


def _recall(
    files: list[Path], *, batch_size: int, device: str, system_prompt: str | None, max_tokens: int
) -> DevSelector:
    from taxolab.evaluation.keyfacts import score_answer
    from taxolab.evaluation.loglik import load_scorer
    from taxolab.evaluation.recall import load_held_out

    items = [item for file in files for item in load_held_out(file, prefix=f"dev:{file.stem}")]
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    conversations = [[*system, {"role": "user", "content": item.question}] for item in items]

    def score(checkpoint: Path) -> float:
        scorer = load_scorer(checkpoint, batch_size=batch_size, device=device)
        answers = scorer.answer(conversations, max_new_tokens=max_tokens, label=f"recall on dev: {checkpoint.name}")
        learned = [
            score_answer(answer, item.references[0] or "", item.question).learned
            for answer, item in zip(answers, items, strict=True)
        ]
        return sum(learned) / len(learned)

    return DevSelector(f"recall on the dev split ({len(items)} held-out pairs)", score)
