"""The stages of ``taxolab run`` and the one loop that walks them, for real or in dry mode (``--plan``).

A stage describes its inputs as JSON (content hashes of files, settings, the
hashes of the stages before it); the runner hashes that description and
compares it with the run's record (``run.json``). A stage that is skipped
still exposes its recorded outputs to the stages after it
(:meth:`StageRunner.need`). ``taxolab run`` and ``taxolab run --plan`` walk
the same list of :class:`Stage` objects with :meth:`StageRunner.walk`: the
plan is the walk in dry mode, which asks each stage whether it is done and
for its estimate instead of running it, so the plan says exactly what a run
would skip.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from taxolab.config.affects import read_settings
from taxolab.console import stderr
from taxolab.errors import TaxolabError
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
        "train the student (phases by the data: knowledge, skills)",
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


STOP_POINTS = ("generate", "mix", "train", "convert")
"""The stage kinds ``taxolab run --stop-after`` may stop after (review rows, inspect a model, then go on)."""


@dataclass
class Estimate:
    """What a stage would cost: teacher requests, token counts and wall ``seconds``, with how they were got.

    ``rate`` says where the throughput divided by came from: ``measured`` (this
    run folder's ``run.json``, :mod:`taxolab.workflow.throughput`) or
    ``default rate`` (the constants of :mod:`taxolab.workflow.estimates`).
    """

    teacher_requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Expected generated tokens; ``completion_tokens_max`` is the bound (every answer at its cap)."""
    completion_tokens_max: int = 0
    train_tokens: int = 0
    seconds: float = 0.0
    basis: str = ""
    rate: str = ""


class PendingInputsError(Exception):
    """A stage's inputs read the outputs of ``stage``, which a dry walk has not produced (it would run first)."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


@dataclass
class Stage:
    """One step of the loop: its fingerprint, its work and its estimate, each called only when reached.

    ``inputs`` returns the JSON the stage's fingerprint is the hash of (what
    its engine reads); ``run`` does the work and returns the outputs kept in
    ``run.json`` (``paths`` must still exist for the stage to count as done);
    ``estimate`` returns its :class:`Estimate` for ``--plan``; ``reads``
    returns the settings shown beside it in the plan. ``always`` marks cheap
    stages that look at the world every time (reading the taxonomy, writing
    the report). ``work`` counts what a finished stage did (see
    :mod:`taxolab.workflow.throughput`); the runner keeps it with the stage's
    wall time as ``outputs["throughput"]``. Consecutive stages with the same
    ``scope`` (a context manager: the teacher's server) run inside one
    ``with`` of it; a dry walk never enters it.
    """

    name: str
    title: str
    inputs: Callable[[], Any]
    run: Callable[[], dict[str, Any]]
    always: bool = False
    work: WorkCounter | None = None
    estimate: Callable[[], Estimate] = Estimate
    reads: Callable[[], dict[str, Any]] = dict
    scope: AbstractContextManager[Any] | None = None

    @property
    def kind(self) -> str:
        """The :data:`STAGES` entry this stage is an instance of (``generate`` for ``generate:<leaf>``)."""
        return self.name.partition(":")[0]


@dataclass(frozen=True)
class StageOutcome:
    """What the walk did with one stage.

    ``status``: ``ran`` / ``done`` (skipped, up to date) on a run;
    ``runs`` / ``done`` / ``always`` in a dry walk; ``not reached`` past
    ``--stop-after`` in either. ``record`` is the record in force (None where
    the stage did not run and has none); ``waits_on`` names the stage whose
    outputs a dry walk needed to tell whether this one is done.
    """

    stage: Stage
    status: str
    record: StageRecord | None = None
    waits_on: str | None = None

    @property
    def name(self) -> str:
        return self.stage.name

    @property
    def title(self) -> str:
        return self.stage.title

    @property
    def skipped(self) -> bool:
        return self.status in ("done", "not reached")


def outputs_present(outputs: dict[str, Any]) -> bool:
    """Every path a stage recorded under ``paths`` still exists (a user may have deleted one)."""
    return all(Path(p).exists() for p in outputs.get("paths", []))


def stop_index(stages: list[Stage], stop_after: str | None) -> int:
    """How many of ``stages`` a walk reaches with ``--stop-after stop_after`` (all of them for None).

    Raises :class:`TaxolabError` for a name outside :data:`STOP_POINTS`.
    """
    if stop_after is None:
        return len(stages)
    if stop_after not in STOP_POINTS:
        raise TaxolabError(f"--stop-after {stop_after!r}: choose one of {', '.join(STOP_POINTS)}")
    return 1 + max(i for i, stage in enumerate(stages) if stage.kind == stop_after)


class StageRunner:
    """Walks stages in order against one manifest; prints ``[i/N] title`` with elapsed time and ETA.

    With ``dry=True`` nothing runs and nothing is written: each stage is only
    checked (inputs hashed, record compared) and reported as ``done`` or
    ``runs``. The ETA adds up how long each remaining stage took the last time
    it ran in this run folder (any inputs); stages never run before make it
    unknown.
    """

    def __init__(self, manifest: RunManifest, total: int = 0, *, echo: bool = True, dry: bool = False) -> None:
        self.manifest = manifest
        self.total = total
        self.echo = echo and not dry
        self.dry = dry
        self.index = 0
        self.started = time.monotonic()
        self.outcomes: list[StageOutcome] = []
        self.planned: list[str] = []
        self.records: dict[str, StageRecord | None] = {}

    def plan(self, names: list[str]) -> None:
        """The names of every stage this run will reach, for the stage count and the ETA."""
        self.planned = list(names)
        self.total = len(names)

    def need(self, name: str) -> StageRecord:
        """The record in force of stage ``name``, which comes earlier in the walk.

        Raises :class:`PendingInputsError` in a dry walk where that stage would run
        (its outputs do not exist yet).
        """
        record = self.records.get(name)
        if record is None:
            if self.dry:
                raise PendingInputsError(name)
            raise TaxolabError(f"stage {name} has no record yet: it must come before the stages that read it")
        return record

    def walk(self, stages: list[Stage], *, stop_after: str | None = None) -> list[StageOutcome]:
        """Run (or, dry, check) each stage in order up to ``stop_after``; the rest are ``not reached``."""
        reached = stop_index(stages, stop_after)
        self.plan([stage.name for stage in stages[:reached]])
        for scope, group in itertools.groupby(stages[:reached], key=lambda stage: stage.scope):
            with scope if scope is not None and not self.dry else contextlib.nullcontext():
                for stage in group:
                    self.run(stage)
        self.outcomes += [StageOutcome(stage, "not reached") for stage in stages[reached:]]
        return self.outcomes

    def run(self, stage: Stage) -> StageRecord | None:
        """Run ``stage`` unless its inputs match its last finished record; return the record in force.

        In a dry walk, returns the record a run would keep (None where it would run the stage).
        """
        self.index += 1
        try:
            input_hash = hash_json(stage.inputs())
        except PendingInputsError as pending:
            self._keep(StageOutcome(stage, "always" if stage.always else "runs", waits_on=pending.stage))
            return None
        previous = self.manifest.done(stage.name, input_hash)
        reusable = previous is not None and outputs_present(previous.outputs)
        if self.dry:
            status = "always" if stage.always else "done" if reusable else "runs"
            self._keep(StageOutcome(stage, status, previous if status == "done" else None))
            return self.records[stage.name]
        if not stage.always and reusable and previous is not None:
            self._say(f"[bold][{self.index}/{self.total}] {stage.title}[/bold]: up to date, skipped")
            self._keep(StageOutcome(stage, "done", previous))
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
        self._say(f"    done in {format_duration(record.seconds)}{_rate(outputs.get('throughput'))}")
        self._keep(StageOutcome(stage, "ran", record))
        return record

    def _keep(self, outcome: StageOutcome) -> None:
        self.records[outcome.name] = outcome.record
        self.outcomes.append(outcome)

    def _timing(self, current: str) -> str:
        elapsed = time.monotonic() - self.started
        text = f"  (run time {format_duration(elapsed)}"
        remaining = self.planned[self.planned.index(current) :] if current in self.planned else []
        known = [self.manifest.stages[name].seconds for name in remaining if name in self.manifest.stages]
        if remaining and len(known) == len(remaining):
            text += f", ETA {format_duration(sum(known))} from the last run"
        return text + ")"

    def _say(self, text: str) -> None:
        if self.echo:
            stderr.print(text, highlight=False)


def _rate(throughput: dict[str, Any] | None) -> str:
    """``, 1,234 tokens at 56.7 tokens/s`` for the stage's done line; empty without a count."""
    if not throughput or throughput.get("per_second") is None:
        return ""
    unit = throughput["unit"]
    return f", {throughput['amount']:,.0f} {unit} at {throughput['per_second']:,.1f} {unit}/s"


def approx_duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``1.6 h``: an estimate, rounded as a plan prints it."""
    if seconds < 90:
        return f"{math.ceil(seconds)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``: a measured wall time as the run's lines print it."""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
