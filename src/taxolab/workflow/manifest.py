"""The run folder's resume record (``run.json``): what each stage consumed (hashes), produced, and how long it took.

It is a :class:`~taxolab.records.ResumeRecord` like every other resume record,
rewritten atomically after every stage, so a crash leaves the record of every
finished stage intact and a rerun skips exactly those.
"""

from __future__ import annotations

from pathlib import Path

from taxolab.records import RUN, ResumeRecord, StepRecord

MANIFEST_NAME = RUN
StageRecord = StepRecord
"""A finished stage: the hash of its inputs, its outputs (``paths`` must still exist), its times."""


class RunManifest(ResumeRecord):
    """The ``taxolab run`` record; its steps are the stages, by name."""

    @classmethod
    def load(cls, run_dir: Path, name: str = RUN) -> RunManifest:
        record = ResumeRecord.load(run_dir, name)
        return cls(record.path, record.fingerprint, record.steps, record.info)

    @property
    def stages(self) -> dict[str, StepRecord]:
        return self.steps
