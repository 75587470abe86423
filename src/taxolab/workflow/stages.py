"""Run stages one by one, skipping each one whose inputs are unchanged since it last finished.

A stage describes its inputs as JSON (content hashes of files, settings, the
hashes of the stages before it); the runner hashes that description and
compares it with the manifest. A stage that is skipped still exposes its
recorded outputs to the stages after it. The runner is driven one stage at a
time (not handed a fixed list) because the loop only learns how many
generation stages it has once the taxonomy has been read, and because some
stages share a resource (the teacher server) that only the caller can scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from taxolab.config.affects import read_settings
from taxolab.console import stderr
from taxolab.hashing import hash_json
from taxolab.sdg.runs import GENERATION_READS
from taxolab.workflow.manifest import RunManifest, StageRecord
from taxolab.workflow.throughput import WorkCounter


@dataclass(frozen=True)
class StageKind:
    """One kind of stage of ``taxolab run``, declared once in :data:`STAGES`.

    ``reads`` names the config sections (``"train"``) or keys
    (``"models.student"``) the stage's work depends on; its fingerprint holds
    their values that affect results, as each setting declares
    (:mod:`taxolab.config.affects`), so no stage keeps its own list of what
    to leave out. ``selects`` names keys of other sections read only to
    choose among the stage's results (training reads the recall settings to
    pick a checkpoint on the dev split): they join the fingerprint with the
    selection-only settings, so a change re-selects without redoing the work.
    ``per_leaf`` stages run once per changed leaf (``generate:<leaf>``);
    ``always`` stages run on every call.
    """

    name: str
    title: str
    reads: tuple[str, ...] = ()
    per_leaf: bool = False
    always: bool = False
    selects: tuple[str, ...] = ()

    def instances(self, leaves: list[str]) -> list[str]:
        """The stage names this kind has for these leaves."""
        return [f"{self.name}:{leaf}" for leaf in leaves] if self.per_leaf else [self.name]

    def config_inputs(self, config: BaseModel, *, selection: bool = False) -> dict[str, Any]:
        """The result-affecting values of what this stage reads (``selection`` ones too when asked)."""
        values = read_settings(config, self.reads, selection=selection)
        if selection:
            values.update(read_settings(config, self.selects))
        return values


STAGES: tuple[StageKind, ...] = (
    StageKind("taxonomy", "taxonomy: diff and validate", always=True),
    StageKind("generate", "generate data", (*GENERATION_READS, "run.max_chunks_per_leaf"), per_leaf=True),
    StageKind("mix", "mix the training sets", ("mix",)),
    StageKind(
        "train",
        "train (multi-phase)",
        ("models.student", "train"),
        selects=("mix.system_prompt", "evaluate.recall_max_tokens"),
    ),
    StageKind("convert", "convert the trained model to GGUF", ("run.outtype",)),
    StageKind(
        "evaluate",
        "evaluate base vs trained (checkpoint and shipped GGUF)",
        (
            "models.student",
            "models.judge",
            "mix.system_prompt",
            "evaluate",
            "run.mt_bench",
            "run.forgetting",
            "run.outtype",
        ),
    ),
    StageKind("report", "write the report", always=True),
)
"""The stages of ``taxolab run``, in order: the run, its stage count and ETA, and ``--plan`` read this list."""

STAGE = {kind.name: kind for kind in STAGES}


def stage_names(leaves: list[str]) -> list[str]:
    """Every stage name of a run over ``leaves``, in order."""
    return [name for kind in STAGES for name in kind.instances(leaves)]


@dataclass
class Stage:
    """One step of the loop. ``inputs`` and ``run`` are called only when the stage is reached.

    ``always`` marks cheap stages that must look at the world every time
    (reading the taxonomy, writing the report): they run even when their
    recorded inputs match. ``work`` counts what a finished stage did (see
    :mod:`taxolab.workflow.throughput`); the runner keeps it with the stage's
    wall time as ``outputs["throughput"]``.
    """

    name: str
    title: str
    inputs: Callable[[], Any]
    run: Callable[[], dict[str, Any]]
    always: bool = False
    work: WorkCounter | None = None


@dataclass(frozen=True)
class StageOutcome:
    name: str
    title: str
    record: StageRecord
    skipped: bool


def outputs_present(outputs: dict[str, Any]) -> bool:
    """Every path a stage recorded under ``paths`` still exists (a user may have deleted one)."""
    return all(Path(p).exists() for p in outputs.get("paths", []))


class StageRunner:
    """Runs stages in order against one manifest and prints ``[i/N] title`` with elapsed time and ETA.

    The ETA adds up how long each remaining stage took the last time it ran
    in this run folder (any inputs); stages never run before make it unknown.
    """

    def __init__(self, manifest: RunManifest, total: int = 0, *, echo: bool = True) -> None:
        self.manifest = manifest
        self.total = total
        self.echo = echo
        self.index = 0
        self.started = time.monotonic()
        self.outcomes: list[StageOutcome] = []
        self.planned: list[str] = []

    def plan(self, names: list[str]) -> None:
        """The names of every stage this run will reach, for the stage count and the ETA."""
        self.planned = list(names)
        self.total = len(names)

    def run(self, stage: Stage) -> StageRecord:
        """Run ``stage`` unless its inputs match its last finished record; return the record in force."""
        self.index += 1
        input_hash = hash_json(stage.inputs())
        previous = self.manifest.done(stage.name, input_hash)
        if not stage.always and previous is not None and outputs_present(previous.outputs):
            self._say(f"[bold][{self.index}/{self.total}] {stage.title}[/bold]: up to date, skipped")
            self.outcomes.append(StageOutcome(stage.name, stage.title, previous, skipped=True))
            return previous
        self._say(f"[bold][{self.index}/{self.total}] {stage.title}[/bold]{self._timing(stage.name)}")
        started = time.time()
        outputs = stage.run()
        finished = time.time()
        done = stage.work(outputs) if stage.work is not None else None
        if done is not None:
            outputs = {**outputs, "throughput": done.rate(finished - started)}
        record = StageRecord(input_hash=input_hash, outputs=outputs, started=started, finished=finished)
        self.manifest.record(stage.name, record)
        self._say(f"    done in {_duration(record.seconds)}{_rate(outputs.get('throughput'))}")
        self.outcomes.append(StageOutcome(stage.name, stage.title, record, skipped=False))
        return record

    def _timing(self, current: str) -> str:
        elapsed = time.monotonic() - self.started
        text = f"  (run time {_duration(elapsed)}"
        remaining = self.planned[self.planned.index(current) :] if current in self.planned else []
        known = [self.manifest.stages[name].seconds for name in remaining if name in self.manifest.stages]
        if remaining and len(known) == len(remaining):
            text += f", ETA {_duration(sum(known))} from the last run"
        return text + ")"

    def _say(self, text: str) -> None:
        if self.echo:
            stderr.print(text, highlight=False)


def run_stages(stages: list[Stage], manifest: RunManifest, *, echo: bool = True) -> dict[str, StageRecord]:
    """Run or skip each stage in order; returns every stage's record."""
    runner = StageRunner(manifest, echo=echo)
    runner.plan([stage.name for stage in stages])
    for stage in stages:
        runner.run(stage)
    return dict(manifest.stages)


def _rate(throughput: dict[str, Any] | None) -> str:
    """``, 1,234 tokens at 56.7 tokens/s`` for the stage's done line; empty without a count."""
    if not throughput or throughput.get("per_second") is None:
        return ""
    unit = throughput["unit"]
    return f", {throughput['amount']:,.0f} {unit} at {throughput['per_second']:,.1f} {unit}/s"


def _duration(seconds: float) -> str:
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
