"""The run manifest: what each stage consumed (hashes), produced, and how long it took.

It is rewritten atomically after every stage, so a crash leaves the record of
every finished stage intact and a rerun skips exactly those.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from taxolab.fsio import write_json

MANIFEST_NAME = "manifest.json"


@dataclass
class StageRecord:
    input_hash: str
    outputs: dict[str, Any]
    started: float
    finished: float

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass
class RunManifest:
    path: Path
    stages: dict[str, StageRecord] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: Path) -> RunManifest:
        path = run_dir / MANIFEST_NAME
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        stages = {
            name: StageRecord(record["input_hash"], record["outputs"], record["started"], record["finished"])
            for name, record in data.get("stages", {}).items()
        }
        return cls(path, stages, data.get("info", {}))

    def save(self) -> None:
        stages = {name: {**asdict(rec), "seconds": round(rec.seconds, 2)} for name, rec in self.stages.items()}
        write_json(self.path, {"info": self.info, "stages": stages})

    def done(self, stage: str, input_hash: str) -> StageRecord | None:
        record = self.stages.get(stage)
        return record if record is not None and record.input_hash == input_hash else None

    def record(self, stage: str, record: StageRecord) -> None:
        self.stages[stage] = record
        self.save()
