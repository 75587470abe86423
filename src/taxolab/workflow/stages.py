"""Run a list of stages, skipping each one whose inputs are unchanged since it last finished.

A stage describes its inputs as JSON (content hashes of files, settings, the
hashes of the stages before it); the runner hashes that description and
compares it with the manifest. A stage that is skipped still exposes its
recorded outputs to the stages after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.console import stderr
from taxolab.workflow.hashing import hash_json
from taxolab.workflow.manifest import RunManifest, StageRecord


@dataclass
class Stage:
    """One step of the loop. ``inputs`` and ``run`` are called only when the stage is reached."""

    name: str
    title: str
    inputs: Callable[[], Any]
    run: Callable[[], dict[str, Any]]


def outputs_present(outputs: dict[str, Any]) -> bool:
    """Every path a stage recorded under ``paths`` still exists (a user may have deleted one)."""
    return all(Path(p).exists() for p in outputs.get("paths", []))


def run_stages(stages: list[Stage], manifest: RunManifest) -> dict[str, StageRecord]:
    """Run or skip each stage in order; returns every stage's record."""
    total = len(stages)
    for index, stage in enumerate(stages, start=1):
        input_hash = hash_json(stage.inputs())
        previous = manifest.done(stage.name, input_hash)
        if previous is not None and outputs_present(previous.outputs):
            stderr.print(f"[bold][{index}/{total}] {stage.title}[/bold]: up to date, skipped")
            continue
        stderr.print(f"[bold][{index}/{total}] {stage.title}[/bold]")
        started = time.time()
        outputs = stage.run()
        record = StageRecord(input_hash=input_hash, outputs=outputs, started=started, finished=time.time())
        manifest.record(stage.name, record)
        stderr.print(f"    done in {record.seconds:.0f} s")
    return dict(manifest.stages)
