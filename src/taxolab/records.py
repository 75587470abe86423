"""Resume records: one type for every folder whose work a rerun continues.

A folder that holds resumable work keeps one JSON record of what that work is
for (``fingerprint``), what it has finished (``steps``, each with the hash of
the inputs it was done for and the outputs it left) and a free description
(``info``: settings, counts, timings). Each kind of work has its own file
name, so a record is never read as another kind's:

==================  ===================================  ==========================================
file                written by                           steps
==================  ===================================  ==========================================
``run.json``        ``taxolab run`` (the run folder)     one per stage (``generate:<leaf>``, ``train``...)
``generation.json`` ``data generate`` / a leaf folder    none (batches are checkpointed as files)
``training.json``   ``model train`` / the train stage    one per finished phase
==================  ===================================  ==========================================

Every write replaces the file atomically, so a kill leaves the last finished
step recorded. A record also names the folder it was written in: read from a
copied or moved folder, the outputs it names inside the old folder are read at
the same place in the new one, so a step counts as done only where its files
are (a copy of ``run.json`` alone reruns the stages whose files it lacks).
Fingerprints and input hashes come from :mod:`taxolab.hashing`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from taxolab.errors import TaxolabError
from taxolab.fsio import write_json

RUN = "run.json"
GENERATION = "generation.json"
TRAINING = "training.json"
KINDS = {RUN: "run", GENERATION: "generation", TRAINING: "training"}
_OLD_NAMES = {GENERATION: "manifest.json", TRAINING: "journal.json"}


@dataclass
class StepRecord:
    """One finished step: the hash of the inputs it was done for, what it left, when (Unix seconds)."""

    input_hash: str
    outputs: dict[str, Any]
    started: float
    finished: float

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass
class ResumeRecord:
    """The record file ``path`` (one of :data:`KINDS`); see the module doc for the layout."""

    path: Path
    fingerprint: str | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return KINDS.get(self.path.name, self.path.stem)

    @classmethod
    def load(cls, folder: Path, name: str) -> ResumeRecord:
        """The record ``name`` in ``folder``, empty when there is none yet.

        A file that is not a record (cut short by a full disk, edited by hand)
        is a one-line error naming it. A folder written by an older taxolab
        under the old name is refused, since its fingerprints were made
        differently and reusing its work could mix two settings.
        """
        path = Path(folder) / name
        old = _OLD_NAMES.get(name)
        if not path.exists():
            if old and _old_record(Path(folder) / old, name):
                raise TaxolabError(
                    f"{folder}: holds work recorded by an older taxolab ({old}); delete that folder "
                    "(or choose another output folder) to start it again"
                )
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            steps = {
                step: StepRecord(record["input_hash"], record["outputs"], record["started"], record["finished"])
                for step, record in data.get("steps", {}).items()
            }
        except (ValueError, TypeError, KeyError) as exc:
            raise TaxolabError(
                f"{path}: not a readable {KINDS.get(name, name)} record ({exc}); delete it to start over"
            ) from None
        moved_from, here = data.get("folder"), path.parent.absolute()
        if isinstance(moved_from, str) and Path(moved_from) != here:
            for record in steps.values():
                record.outputs = _rebased(record.outputs, moved_from, str(here))
        return cls(path, data.get("fingerprint"), steps, data.get("info", {}))

    @classmethod
    def claim(cls, folder: Path, name: str, fingerprint: str, *, refusal: str) -> ResumeRecord:
        """The record for work with ``fingerprint``: a new one, or the folder's own when it matches.

        A folder whose record has another fingerprint holds other work:
        :class:`TaxolabError` with ``refusal`` (say what to do instead).
        """
        record = cls.load(folder, name)
        if record.fingerprint is not None and record.fingerprint != fingerprint:
            raise TaxolabError(refusal)
        record.fingerprint = fingerprint
        return record

    def exists(self) -> bool:
        return self.path.exists()

    def save(self) -> None:
        """Atomically rewrite the file."""
        steps = {name: {**asdict(step), "seconds": round(step.seconds, 2)} for name, step in self.steps.items()}
        write_json(
            self.path,
            {
                "kind": self.kind,
                "folder": str(self.path.parent.absolute()),
                "fingerprint": self.fingerprint,
                "info": self.info,
                "steps": steps,
            },
        )

    def done(self, step: str, input_hash: str) -> StepRecord | None:
        """The record of ``step`` if it finished for exactly these inputs."""
        record = self.steps.get(step)
        return record if record is not None and record.input_hash == input_hash else None

    def record(self, step: str, record: StepRecord) -> None:
        """Note a finished step and save."""
        self.steps[step] = record
        self.save()

    def finish(self, step: str, input_hash: str, outputs: dict[str, Any], started: float) -> StepRecord:
        """Record ``step`` as finished now, having started at ``started``; returns its record."""
        record = StepRecord(input_hash, outputs, started, time.time())
        self.record(step, record)
        return record


def _rebased(value: Any, old: str, new: str) -> Any:
    """``value`` with every path string inside folder ``old`` moved to the same place in ``new``.

    A record names what a step left by absolute path. When its folder was copied
    or moved, those paths name the original's files: read as they are, a copy
    would count a step done because the original still holds its outputs, and
    then read the copy's own (missing) files. Rebased, the step is done only
    where the copy holds them; otherwise it runs again.
    """
    if isinstance(value, str):
        prefix = old.rstrip("/")
        if value == old or value.startswith(prefix + "/"):
            return new + value[len(prefix) :]
        return value
    if isinstance(value, list):
        return [_rebased(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: _rebased(item, old, new) for key, item in value.items()}
    return value


def _old_record(path: Path, name: str) -> bool:
    """Whether ``path`` is an older taxolab's record of this kind (not some other ``manifest.json``)."""
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return isinstance(data, dict) and "fingerprint" in data and "steps" not in data
