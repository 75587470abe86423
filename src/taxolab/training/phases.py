"""Which phases a run has, on which data, and the journal that lets a rerun continue.

LAB trains in two phases: knowledge first (documents turned into Q&A), then
skills starting from the knowledge result, with the best skills checkpoint
kept; data with only one kind of mix trains that phase alone, its chosen
checkpoint the result. The journal (``training.json`` in the output folder) records each finished
phase; a rerun of the same command skips finished phases and resumes the
unfinished one from its own resume state. A journal written for other data or
settings is refused rather than silently mixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.config.affects import result_settings
from taxolab.datarun import KNOWLEDGE_GLOB, SKILLS_GLOB
from taxolab.errors import TaxolabError
from taxolab.hashing import hash_bytes, hash_json, short
from taxolab.records import TRAINING, ResumeRecord, StepRecord
from taxolab.training.settings import PhaseName, Strategy, TrainSettings

JOURNAL = TRAINING


@dataclass(frozen=True)
class PlannedPhase:
    name: PhaseName
    data_file: Path


def plan_phases(data_path: Path, strategy: Strategy) -> tuple[Strategy, list[PlannedPhase]]:
    """The strategy in force and its phases, from a data file or an SDG output folder.

    ``auto``: both mixes -> ``lab-multiphase`` (knowledge, then skills from the knowledge phase's chosen
    checkpoint); only the skills mix -> ``lab-skills-only``; only the knowledge mix (a knowledge-only
    taxonomy: mixing writes no replay-only skills mix) -> ``lab-knowledge-only``, a knowledge phase with the
    ``knowledge_*`` settings whose chosen checkpoint is the result; one JSONL file -> ``single`` (the general
    ``epochs`` and ``learning_rate``). Raises :class:`TaxolabError` when the data lacks what the strategy needs.
    """
    data_path = Path(data_path)
    if data_path.is_file():
        if strategy not in ("auto", "single"):
            raise TaxolabError(f"{data_path}: --strategy {strategy} needs an SDG output folder, not one file")
        return "single", [PlannedPhase("single", data_path)]
    if not data_path.is_dir():
        raise TaxolabError(f"{data_path}: no such data file or folder")
    knowledge = _newest(data_path, KNOWLEDGE_GLOB)
    skills = _newest(data_path, SKILLS_GLOB)
    if strategy == "auto":
        strategy = (
            "lab-multiphase"
            if knowledge and skills
            else "lab-skills-only"
            if skills
            else "lab-knowledge-only"
            if knowledge
            else "single"
        )
    if strategy == "lab-multiphase":
        if not (knowledge and skills):
            raise TaxolabError(f"{data_path}: lab-multiphase needs both {KNOWLEDGE_GLOB} and {SKILLS_GLOB}")
        return strategy, [PlannedPhase("knowledge", knowledge), PlannedPhase("skills", skills)]
    if strategy == "lab-skills-only":
        if not skills:
            raise TaxolabError(f"{data_path}: no {SKILLS_GLOB} to train on")
        return strategy, [PlannedPhase("skills", skills)]
    if strategy == "lab-knowledge-only":
        if not knowledge:
            raise TaxolabError(f"{data_path}: no {KNOWLEDGE_GLOB} to train on")
        return strategy, [PlannedPhase("knowledge", knowledge)]
    only = knowledge or skills
    if only is None:
        raise TaxolabError(f"{data_path}: no training mix ({KNOWLEDGE_GLOB} or {SKILLS_GLOB}) in this folder")
    return "single", [PlannedPhase("single", only)]


def _newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime, p.name))
    return found[-1] if found else None


def fingerprint(model_dir: Path, phases: list[PlannedPhase], settings: TrainSettings) -> str:
    """A hash (16 hex digits) of what the phases compute: model, data contents, result-affecting settings.

    Speed-only settings and ``select_by`` (which only chooses among the
    finished checkpoints) are left out, as :class:`TrainSettings` declares, so
    changing them resumes the same journal.
    """
    return short(
        hash_json(
            {
                "model": str(Path(model_dir).resolve()),
                "phases": [(phase.name, hash_bytes(phase.data_file)) for phase in phases],
                "settings": result_settings(settings),
            }
        )
    )


class Journal:
    """Finished phases and the final choice: the folder's resume record (``training.json``), saved after each.

    Each finished phase is a step whose input hash is the run's fingerprint
    and whose outputs are the phase's outcome; the choice of checkpoint is
    ``info["selected"]``. Only the ``writer`` (node 0) saves.
    """

    def __init__(
        self, out_dir: Path, run_fingerprint: str, strategy: str, inputs: dict[str, Any], *, writer: bool = True
    ) -> None:
        self.writer = writer
        self.fingerprint = run_fingerprint
        self.record_ = ResumeRecord.claim(
            Path(out_dir),
            JOURNAL,
            run_fingerprint,
            refusal=(
                f"{out_dir}: holds a training run with other data, model or settings; "
                "use another --output-dir (or delete that folder) to start afresh"
            ),
        )
        self.path = self.record_.path
        self.record_.info.setdefault("strategy", strategy)
        self.record_.info.setdefault("inputs", inputs)
        self._write()

    def finished(self, phase: str) -> dict[str, Any] | None:
        """The outcome of ``phase`` if it finished in this run (same fingerprint), else None."""
        done = self.record_.done(phase, self.fingerprint)
        return done.outputs if done is not None else None

    def record(self, phase: str, outcome: dict[str, Any], started: float | None = None) -> None:
        """Note ``phase`` as finished with ``outcome`` (it started at ``started``, Unix seconds)."""
        now = time.time()
        self.record_.steps[phase] = StepRecord(self.fingerprint, outcome, started or now, now)
        self._write()

    def record_checkpoints(self, phase: str, checkpoints: list[dict[str, Any]]) -> None:
        """Replace finished ``phase``'s checkpoint list (e.g. with the dev scores taken of them); no-op if unfinished."""
        step = self.record_.steps.get(phase)
        if step is not None:
            step.outputs["checkpoints"] = checkpoints
            self._write()

    def record_selection(self, selected: Path, how: str) -> None:
        self.record_.info["selected"] = {"path": str(selected), "by": how}
        self._write()

    def record_selection_start(self, phase: str, selected: Path, how: str) -> None:
        """Note the checkpoint ``phase`` starts from (chosen among the previous phase's), before it starts."""
        self.record_.info.setdefault("starts", {})[phase] = {"path": str(selected), "by": how}
        self._write()

    def _write(self) -> None:
        if self.writer:
            self.record_.save()


def select_checkpoint(
    checkpoints: list[dict[str, Any]], select_best: Callable[[list[Path]], Path] | None, *, last: bool = False
) -> tuple[Path, str]:
    """The best checkpoint: by the given evaluation, else lowest validation loss, else the last."""
    paths = [Path(c["path"]) for c in checkpoints]
    if last:
        return paths[-1], "last checkpoint"
    if select_best is not None and len(paths) == 1:
        return paths[0], "only checkpoint"
    if select_best is not None:
        return Path(select_best(paths)), str(getattr(select_best, "description", "evaluation"))
    scored = [c for c in checkpoints if c.get("val_loss") is not None]
    if scored:
        return Path(min(scored, key=lambda c: c["val_loss"])["path"]), "validation loss"
    return paths[-1], "last checkpoint"
