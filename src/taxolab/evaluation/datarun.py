"""The data run an evaluation reads: its test questions, held-out pairs and training files.

``taxolab data generate`` and the mix stage of ``taxolab run`` write one
folder per run (``test/``, ``heldout/``, ``messages/``,
``*_train_msgs_*.jsonl``). mmlu_branch and recall find it the same way: the
folder given (``--tasks-dir``: the run folder, its ``test/`` folder or one of
its JSONL files), else the newest run under the datasets folder that has
what the benchmark reads. The training files tell which questions the model
has already seen: those are never scored as if they were new.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from taxolab.evaluation.overlap import normalise_tokens
from taxolab.fsio import iter_jsonl

KNOWN_PARTS = ("test", "heldout", "messages", "generated", "passages", "dropped")
DEV_SPLIT = "dev"
"""The run's dev split folder (``dev/heldout``, ``dev/test``; written by :mod:`taxolab.mixing.splits`):
checkpoint selection reads it, the report never does."""


def run_folder(path: Path) -> Path:
    """The data run folder for a ``--tasks-dir`` value: the folder itself, or above its ``test/`` file or folder."""
    path = Path(path)
    if path.is_file():
        path = path.parent
    if path.name in KNOWN_PARTS and not (path / "test").is_dir():
        return path.parent
    return path


def newest_run(datasets_dir: Path, part: str) -> Path | None:
    """The most recently written run folder under ``datasets_dir`` with ``part/*.jsonl``, if any."""
    found = [p for p in Path(datasets_dir).glob(f"*/{part}") if any(p.glob("*.jsonl"))]
    if not found:
        return None
    return max(found, key=lambda p: p.stat().st_mtime).parent


def training_files(folder: Path) -> list[Path]:
    """The files a model of this run trained on: the mixes and the per-leaf messages (a ``dev/`` split: its run's)."""
    folder = Path(folder)
    if folder.name == DEV_SPLIT and not any(folder.glob("*_train_msgs_*.jsonl")):
        folder = folder.parent
    return sorted(folder.glob("*_train_msgs_*.jsonl")) + sorted((folder / "messages").glob("*.jsonl"))


def normalised_question(text: str) -> str:
    """The form questions are compared in: lower-case words, punctuation and English articles removed."""
    return " ".join(normalise_tokens(text))


class TrainingQuestions:
    """Every user message of a run's training files, to ask "has the model been trained on this question?".

    A question is *in training* when its normalised text equals a user
    message's, or the part of one after its last ``Question:`` (knowledge
    samples put the documents before ``Question: <question>``).
    """

    def __init__(self, user_messages: Iterable[str]) -> None:
        self.messages: set[str] = set()
        for text in user_messages:
            self.messages.add(normalised_question(text))
            _head, marker, tail = text.rpartition("Question:")
            if marker:
                self.messages.add(normalised_question(tail))
        self.messages.discard("")

    @classmethod
    def of_run(cls, folder: Path) -> TrainingQuestions:
        return cls(_user_messages(training_files(folder)))

    def __len__(self) -> int:
        return len(self.messages)

    def __contains__(self, question: object) -> bool:
        if not isinstance(question, str):
            return False
        asked = normalised_question(question)
        return bool(asked) and asked in self.messages


def _user_messages(files: list[Path]) -> Iterable[str]:
    for file in files:
        for _where, row in iter_jsonl(file):
            messages: Any = row.get("messages") if isinstance(row, dict) else None
            for message in messages if isinstance(messages, list) else []:
                if isinstance(message, dict) and message.get("role") == "user":
                    yield str(message.get("content") or "")


def split_note(folder: Path, part: str) -> str | None:
    """What the report says about the split it scores, when the run has a dev split; else None.

    ``part`` is ``heldout`` or ``test``. E.g. "test split: 12 held-out questions scored here;
    the dev split's 11 chose the checkpoint and are not scored".
    """
    folder = Path(folder)
    dev = folder / DEV_SPLIT / part
    if folder.name == DEV_SPLIT or not dev.is_dir():
        return None
    count = sum(_rows(path) for path in dev.glob("*.jsonl"))
    return f"test split scored here; the dev split ({count} questions in {dev}) chose the checkpoint and is not scored"


def _rows(path: Path) -> int:
    return sum(1 for _ in iter_jsonl(path))
