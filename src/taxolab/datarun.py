"""The data-run layout: the one place that names a data run's folders and training files.

A data run is one folder (``taxolab data generate``: ``<datasets>/<run id>``;
``taxolab run``: ``<run>/data/mix``, each leaf's generation under
``<run>/data/leaves/<leaf>/<id>`` with the same leaf folders):

generated/<leaf>.jsonl     generation's kept rows (:mod:`taxolab.sdg.outputs`)
heldout/<leaf>.jsonl       held-out closed-book pairs (after mixing: the *test* split)
test/<leaf>.jsonl          multiple-choice questions (after mixing: the *test* split)
passages/<leaf>.jsonl      the documents' chunks as plain text
dropped/<leaf>.jsonl       rows a block refused (``data show --dropped``)
messages/<leaf>.jsonl      mixing's training samples of one leaf (:mod:`taxolab.mixing.training_sets`)
forms/<leaf>.json          forms per fact (:mod:`taxolab.mixing.forms`)
recipes/<phase>.yaml       the mix recipes
dev/heldout, dev/test      the dev split (:mod:`taxolab.mixing.splits`): checkpoint selection only
knowledge_train_msgs_<run>.jsonl, skills_train_msgs_<run>.jsonl   the two mixes, one per training phase

Every stage (sdg, mixing, training, evaluation, workflow, cli) reaches these
through the names and the :class:`DataRun` type below, never by spelling them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERATED = "generated"
HELDOUT = "heldout"
TEST = "test"
PASSAGES = "passages"
DROPPED = "dropped"
MESSAGES = "messages"
FORMS = "forms"
RECIPES = "recipes"
DEV = "dev"
"""The dev split's folder (``dev/heldout``, ``dev/test``): checkpoint selection reads it, the report never does."""

LEAF_FOLDERS = (GENERATED, HELDOUT, TEST, PASSAGES, DROPPED)
"""What generation writes per leaf (and mixing copies into a separate mix folder)."""
MIX_FOLDERS = (MESSAGES, RECIPES, FORMS)
"""What a mix writes besides the mixes themselves (cleared before each mix)."""
PARTS = (*LEAF_FOLDERS, *MIX_FOLDERS)
"""Every part folder of a run (a ``--tasks-dir`` naming one stands for its run)."""

KNOWLEDGE_MIX = "knowledge_train_msgs"
SKILLS_MIX = "skills_train_msgs"
MIX_MARK = "_train_msgs_"
"""What every mix file name holds (``<phase>_train_msgs_<run>.jsonl``)."""
MIX_GLOB = f"*{MIX_MARK}*.jsonl"
KNOWLEDGE_GLOB = f"{KNOWLEDGE_MIX}_*.jsonl"
SKILLS_GLOB = f"{SKILLS_MIX}_*.jsonl"

QUESTIONS_KEY = "questions"
"""The field beside ``"messages"`` in which mixing records the questions a training sample trains
(empty for a passage); evaluation reads it to refuse questions the model trained on."""


def mix_name(mix: str, run: str) -> str:
    """The file name of ``mix`` (:data:`KNOWLEDGE_MIX` or :data:`SKILLS_MIX`) for run id ``run``."""
    return f"{mix}_{run}.jsonl"


def is_mix(path: Path) -> bool:
    """Whether ``path`` names a mix file (``*_train_msgs_*.jsonl``)."""
    return MIX_MARK in Path(path).name and Path(path).suffix == ".jsonl"


def has_mixes(folder: Path) -> bool:
    """Whether ``folder`` holds a knowledge or a skills mix."""
    folder = Path(folder)
    return any(folder.glob(KNOWLEDGE_GLOB)) or any(folder.glob(SKILLS_GLOB))


@dataclass(frozen=True)
class DataRun:
    """One data run folder and the paths of its parts (nothing is read until asked)."""

    folder: Path

    @classmethod
    def at(cls, path: Path) -> DataRun:
        """The data run a ``--tasks-dir`` value names: the folder itself, or the run above one of its parts or files.

        E.g. ``<run>``, ``<run>/test`` and ``<run>/test/<leaf>.jsonl`` give ``<run>``; a part's name on a
        folder that holds a ``test/`` folder is a run of that name. ``<run>/dev/test`` gives ``<run>/dev``
        (the dev split, which :meth:`training_files` and the reports know as such).
        """
        path = Path(path)
        if path.is_file():
            path = path.parent
        if path.name in PARTS and not (path / TEST).is_dir():
            return cls(path.parent)
        return cls(path)

    @classmethod
    def newest(cls, datasets_dir: Path, part: str) -> DataRun | None:
        """The most recently written run under ``datasets_dir`` with ``<part>/*.jsonl``, if any."""
        found = [p for p in Path(datasets_dir).glob(f"*/{part}") if any(p.glob("*.jsonl"))]
        if not found:
            return None
        return cls(max(found, key=lambda p: p.stat().st_mtime).parent)

    def part(self, part: str) -> Path:
        """The folder of ``part`` (one of :data:`PARTS`)."""
        return self.folder / part

    def leaf_file(self, part: str, leaf: str) -> Path:
        """``<part>/<leaf>.jsonl`` (``forms``: ``forms/<leaf>.json``)."""
        return self.folder / part / f"{leaf}{'.json' if part == FORMS else '.jsonl'}"

    def dev_part(self, part: str) -> Path:
        """The dev split's folder of ``part`` (``dev/heldout`` or ``dev/test``)."""
        return self.folder / DEV / part

    def dev_file(self, part: str, leaf: str) -> Path:
        return self.dev_part(part) / f"{leaf}.jsonl"

    def files(self, part: str) -> list[Path]:
        """The ``*.jsonl`` files of ``part``, sorted (empty when the folder is missing)."""
        return sorted(self.part(part).glob("*.jsonl"))

    def dev_files(self, part: str) -> list[Path]:
        """The dev split's ``*.jsonl`` files of ``part``, sorted."""
        return sorted(self.dev_part(part).glob("*.jsonl"))

    def dev_split_files(self) -> list[Path]:
        """Every file of the dev split (both parts), sorted."""
        dev = self.folder / DEV
        return sorted(dev.glob("*/*.jsonl")) if dev.is_dir() else []

    def mix_file(self, mix: str, run: str) -> Path:
        return self.folder / mix_name(mix, run)

    def mixes(self) -> list[Path]:
        """The run's mix files (``*_train_msgs_*.jsonl``), sorted."""
        return sorted(self.folder.glob(MIX_GLOB))

    def recipe(self, mix: str) -> Path:
        """The recipe of ``mix`` (``recipes/knowledge.yaml``, ``recipes/skills.yaml``)."""
        return self.folder / RECIPES / f"{mix.removesuffix(MIX_MARK.rstrip('_'))}.yaml"

    def training_files(self) -> list[Path]:
        """The files a model of this run trained on: the mixes and the per-leaf messages.

        A ``dev/`` folder without mixes of its own stands for its run's.
        """
        run = self if self.folder.name != DEV or self.mixes() else DataRun(self.folder.parent)
        return run.mixes() + run.files(MESSAGES)


def run_folder(path: Path) -> Path:
    """The data run folder for a ``--tasks-dir`` value (:meth:`DataRun.at`)."""
    return DataRun.at(path).folder


def newest_run(datasets_dir: Path, part: str) -> Path | None:
    """The newest run folder under ``datasets_dir`` with ``<part>/*.jsonl`` (:meth:`DataRun.newest`), if any."""
    run = DataRun.newest(datasets_dir, part)
    return run.folder if run else None


def training_files(folder: Path) -> list[Path]:
    """The files a model of the run at ``folder`` trained on (:meth:`DataRun.training_files`)."""
    return DataRun(Path(folder)).training_files()


def trained_questions(row: Any) -> list[str]:
    """The questions one training row trains: its ``"questions"`` record, else (no record) its user messages."""
    if not isinstance(row, dict):
        return []
    recorded = row.get(QUESTIONS_KEY)
    if isinstance(recorded, list):
        return [str(question) for question in recorded]
    messages = row.get("messages")
    return [
        str(message.get("content") or "")
        for message in (messages if isinstance(messages, list) else [])
        if isinstance(message, dict) and message.get("role") == "user"
    ]
