"""Which phases a run has, on which data, and the journal that lets a rerun continue.

LAB trains in two phases: knowledge first (documents turned into Q&A), then
skills starting from the knowledge result, with the best skills checkpoint
kept. The journal (``journal.json`` in the output folder) records each finished
phase; a rerun of the same command skips finished phases and resumes the
unfinished one from its own resume state. A journal written for other data or
settings is refused rather than silently mixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.errors import TaxolabError
from taxolab.training.settings import PhaseName, Strategy, TrainSettings

JOURNAL = "journal.json"
KNOWLEDGE_GLOB = "knowledge_train_msgs_*.jsonl"
SKILLS_GLOB = "skills_train_msgs_*.jsonl"
# Settings that change how a run is executed, not what it computes.
_EXECUTION_ONLY = {
    "nproc_per_node", "nnodes", "node_rank", "rdzv_endpoint", "threads", "data_workers", "tensorboard", "select_by",
}  # fmt: skip


@dataclass(frozen=True)
class PlannedPhase:
    name: PhaseName
    data_file: Path


def plan_phases(data_path: Path, strategy: Strategy) -> tuple[Strategy, list[PlannedPhase]]:
    """The strategy in force and its phases, from a data file or an SDG output folder."""
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
        strategy = "lab-multiphase" if knowledge and skills else "lab-skills-only" if skills else "single"
    if strategy == "lab-multiphase":
        if not (knowledge and skills):
            raise TaxolabError(f"{data_path}: lab-multiphase needs both {KNOWLEDGE_GLOB} and {SKILLS_GLOB}")
        return strategy, [PlannedPhase("knowledge", knowledge), PlannedPhase("skills", skills)]
    if strategy == "lab-skills-only":
        if not skills:
            raise TaxolabError(f"{data_path}: no {SKILLS_GLOB} to train on")
        return strategy, [PlannedPhase("skills", skills)]
    only = knowledge or skills
    if only is None:
        raise TaxolabError(f"{data_path}: no training mix ({KNOWLEDGE_GLOB} or {SKILLS_GLOB}) in this folder")
    return "single", [PlannedPhase("single", only)]


def _newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime, p.name))
    return found[-1] if found else None


def fingerprint(model_dir: Path, phases: list[PlannedPhase], settings: TrainSettings) -> str:
    """A hash of what the run computes: model, data contents and the settings that matter."""
    digest = hashlib.sha256(str(Path(model_dir).resolve()).encode())
    for phase in phases:
        digest.update(phase.name.encode())
        digest.update(Path(phase.data_file).read_bytes())
    relevant = {k: v for k, v in settings.model_dump(mode="json").items() if k not in _EXECUTION_ONLY}
    digest.update(json.dumps(relevant, sort_keys=True).encode())
    return digest.hexdigest()[:16]


class Journal:
    """Finished phases and the final choice, rewritten atomically after each."""

    def __init__(
        self, out_dir: Path, run_fingerprint: str, strategy: str, inputs: dict[str, Any], *, writer: bool = True
    ) -> None:
        self.path = Path(out_dir) / JOURNAL
        self.writer = writer
        self.data: dict[str, Any] = {"fingerprint": run_fingerprint, "strategy": strategy, "inputs": inputs, "phases": {}}
        if self.path.exists():
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            if stored.get("fingerprint") != run_fingerprint:
                raise TaxolabError(
                    f"{out_dir}: holds a training run with other data, model or settings; "
                    "use another --output-dir (or delete that folder) to start afresh"
                )
            self.data = stored
        else:
            self._write()

    def finished(self, phase: str) -> dict[str, Any] | None:
        return self.data["phases"].get(phase)

    def record(self, phase: str, outcome: dict[str, Any]) -> None:
        self.data["phases"][phase] = outcome
        self._write()

    def record_selection(self, selected: Path, how: str) -> None:
        self.data["selected"] = {"path": str(selected), "by": how}
        self._write()

    def _write(self) -> None:
        if self.writer:
            fsio.write_json(self.path, self.data)


def select_checkpoint(
    checkpoints: list[dict[str, Any]], select_best: Callable[[list[Path]], Path] | None, *, last: bool = False
) -> tuple[Path, str]:
    """The best checkpoint: by the given evaluation, else lowest validation loss, else the last."""
    paths = [Path(c["path"]) for c in checkpoints]
    if last:
        return paths[-1], "last checkpoint"
    if select_best is not None:
        return Path(select_best(paths)), "evaluation"
    scored = [c for c in checkpoints if c.get("val_loss") is not None]
    if scored:
        return Path(min(scored, key=lambda c: c["val_loss"])["path"]), "validation loss"
    return paths[-1], "last checkpoint"
