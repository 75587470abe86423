"""What evaluation reads of a data run: which questions the model trained on, and the dev-split note.

The run's layout (its ``test/``, ``heldout/``, ``messages/`` folders and
mixes, how a ``--tasks-dir`` value or the newest run is found) is
:mod:`taxolab.datarun`'s. The training files tell which questions the model
has already seen: those are never scored as if they were new.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from taxolab.datarun import DEV, DataRun, trained_questions, training_files
from taxolab.fsio import iter_jsonl
from taxolab.text import normalize


class TrainingQuestions:
    """The questions a run's training files train, to ask "has the model been trained on this question?".

    Mixing records with each training sample the questions it trains (its
    ``"questions"`` list, :data:`taxolab.datarun.QUESTIONS_KEY`); this
    reads that record and never parses a sample's prompt text. Fallback for a
    row without the record (a mix written before mixing kept it, or a training
    file made by hand): its whole user messages count as its questions, so a
    closed-book sample is still matched, while a question shown after
    documents is matched only by its closed-book twin (mixing writes one for
    every knowledge pair); re-mix (rerun ``taxolab data generate`` or
    ``taxolab run``) to have the record.

    A question is *in training* when its normalised text
    (:func:`taxolab.text.normalize`, the rule of mixing's held-out exclusion) equals a recorded one.
    """

    def __init__(self, questions: Iterable[str]) -> None:
        self.messages: set[str] = {normalize(text) for text in questions}
        self.messages.discard("")

    @classmethod
    def of_run(cls, folder: Path) -> TrainingQuestions:
        """The questions of every training file of the run at ``folder`` (:meth:`taxolab.datarun.DataRun.training_files`)."""
        return cls.of_files(training_files(folder))

    @classmethod
    def of_files(cls, files: Iterable[Path]) -> TrainingQuestions:
        return cls(
            question for file in files for _where, row in iter_jsonl(file) for question in trained_questions(row)
        )

    def __len__(self) -> int:
        return len(self.messages)

    def __contains__(self, question: object) -> bool:
        if not isinstance(question, str):
            return False
        asked = normalize(question)
        return bool(asked) and asked in self.messages


def split_note(folder: Path, part: str) -> str | None:
    """What the report says about the split it scores, when the run has a dev split; else None.

    ``part`` is ``heldout`` or ``test``. E.g. "test split: 12 held-out questions scored here;
    the dev split's 11 chose the checkpoint and are not scored".
    """
    run = DataRun(Path(folder))
    dev = run.dev_part(part)
    if run.folder.name == DEV or not dev.is_dir():
        return None
    count = sum(_rows(path) for path in run.dev_files(part))
    return f"test split scored here; the dev split ({count} questions in {dev}) chose the checkpoint and is not scored"


def _rows(path: Path) -> int:
    return sum(1 for _ in iter_jsonl(path))
