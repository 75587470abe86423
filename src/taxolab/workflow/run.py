"""``taxolab run`` as one library call: taxonomy -> data -> mix -> train -> GGUF -> evaluate -> report.

The stages are declared once, in :data:`taxolab.workflow.stages.STAGES`, each
with the config sections and keys it reads, and built once, as the list of
stage objects :func:`build_stages` returns (fingerprint, work, estimate per
stage): ``taxolab run`` walks that list, ``taxolab run --plan`` walks it dry
(:mod:`taxolab.workflow.plan`), ``--stop-after`` ends the walk after one
stage kind. A stage's fingerprint holds the
content hashes of its input files, the fingerprints of the stages it builds
on, and the values of what it reads that affect results (as each setting
declares on its settings model, :mod:`taxolab.config.affects`):

=================  ==========================================================
taxonomy           always runs (a git diff and validation take a second)
generate:<leaf>    generation's own fingerprint of the leaf: its folder, the
                   pipeline and prompt files it runs, teacher, ``generate.*``,
                   ``serve.*``, ``run.max_chunks_per_leaf``; and the further
                   batches its review asked for (``data review --more``)
mix                every leaf's generation hash and further batches, its review decisions
                   (``taxolab data review``), ``mix.*``
train              the mix files' bytes, student, training settings;
                   ``select_by`` and the test questions only re-select
convert            the training hash, ``run.outtype``
evaluate           the training hash, the mix folder, models, evaluation settings;
                   the shipped GGUF is scored beside the checkpoint
report             always runs (reads every stage's recorded outputs)
=================  ==========================================================

Editing one leaf therefore regenerates that leaf only, then remixes, retrains,
re-evaluates and reconverts; a kill during training resumes training from its
own journal and saved state; a ``mix.*`` setting re-mixes and retrains
without a teacher request; a speed-only setting (``generate.batch_size``,
``train.nproc_per_node``, ...) changes nothing that is done; a changed
``train.select_by`` picks again among the finished checkpoints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taxolab.config import Config
from taxolab.console import stderr
from taxolab.datarun import DEV, GENERATED, TEST, DataRun, is_mix
from taxolab.errors import TaxolabError
from taxolab.hashing import hash_files, hash_json
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.data import (
    LeafData,
    TeacherSession,
    generate_leaf,
    mix_leaves,
    reused_models,
)
from taxolab.workflow.estimates import Estimator
from taxolab.workflow.layout import RunLayout
from taxolab.workflow.manifest import RunManifest, StageRecord
from taxolab.workflow.model_steps import convert_model, evaluate_models, train_model
from taxolab.workflow.profiles import Profile
from taxolab.workflow.stages import (
    STAGE,
    STOP_POINTS,
    Stage,
    StageOutcome,
    StageRunner,
    approx_duration,
    format_duration,
)
from taxolab.workflow.throughput import evaluated_questions, generated_tokens, trained_tokens


@dataclass
class RunOptions:
    """Where the loop runs and how it talks; every choice of *what* it computes is the config.

    ``taxonomy_root`` and ``taxonomy_base`` default to ``paths.taxonomy`` and
    ``taxonomy.base``. ``profile``, when given, must be the profile the config
    was built with (:func:`taxolab.workflow.profiles.load_run_config`); it is
    recorded in the report.
    """

    taxonomy_root: Path | None = None
    taxonomy_base: str | None = None
    profile: Profile | None = None
    output_dir: Path | None = None
    show_progress: bool = True
    debug: bool = False
    stop_after: str | None = None
    """Stop after this stage kind (one of :data:`taxolab.workflow.stages.STOP_POINTS`); a rerun goes on."""


@dataclass(frozen=True)
class StageSummary:
    """One stage as the run left it: wall ``seconds`` and ``throughput`` of its last run (when it counts work)."""

    name: str
    title: str
    skipped: bool
    seconds: float
    throughput: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "skipped": self.skipped,
            "seconds": self.seconds,
            "throughput": self.throughput,
        }


@dataclass
class RunResult:
    """Where a run left everything. After ``--stop-after`` the parts not reached are None and
    ``stopped_after`` names the last stage kind done, ``next_step`` what to do next."""

    run_dir: Path
    stages: list[StageSummary]
    report: Path | None = None
    gguf: Path | None = None
    trained_model: Path | None = None
    evaluation: Path | None = None
    chat_command: str | None = None
    shipped: dict[str, Any] | None = None  # the shipped GGUF scored beside the checkpoint (evaluate stage)
    phase_recall: dict[str, Any] | None = None  # recall on dev after each phase (train stage)
    stopped_after: str | None = None
    next_step: str | None = None

    def to_json(self) -> dict[str, Any]:
        def text(path: Path | None) -> str | None:
            return str(path) if path is not None else None

        return {
            "run_dir": str(self.run_dir),
            "report": text(self.report),
            "gguf": text(self.gguf),
            "trained_model": text(self.trained_model),
            "evaluation": text(self.evaluation),
            "stages": [stage.to_json() for stage in self.stages],
            "chat_command": self.chat_command,
            "shipped": self.shipped,
            "phase_recall": self.phase_recall,
            "stopped_after": self.stopped_after,
            "next_step": self.next_step,
        }


# Typed views of what each stage recorded (the manifest keeps JSON; these read it by name, never by position).


@dataclass(frozen=True)
class MixOutputs:
    folder: Path
    mixes: list[Path]

    @classmethod
    def of(cls, record: StageRecord) -> MixOutputs:
        folder = Path(record.outputs["folder"])
        return cls(folder, DataRun(folder).mixes())


@dataclass(frozen=True)
class TrainOutputs:
    final_dir: Path
    selected_by: str | None
    phase_recall: dict[str, Any] | None = None

    @classmethod
    def of(cls, record: StageRecord) -> TrainOutputs:
        outputs = record.outputs
        return cls(Path(outputs["final_dir"]), outputs.get("selected_by"), outputs.get("phase_recall"))


@dataclass(frozen=True)
class EvaluateOutputs:
    results: Path
    shipped: dict[str, Any] | None = None

    @classmethod
    def of(cls, record: StageRecord) -> EvaluateOutputs:
        return cls(Path(record.outputs["results"]), record.outputs.get("shipped"))


@dataclass(frozen=True)
class ConvertOutputs:
    gguf: Path

    @classmethod
    def of(cls, record: StageRecord) -> ConvertOutputs:
        return cls(Path(record.outputs["gguf"]))


FORGETTING_BENCHMARKS = ("mmlu", "mt_bench_reference")
"""Did it forget? Both by log-likelihood, no judge: general knowledge and how likely good chat answers stay."""


def benchmarks_for(config: Config) -> list[str]:
    """The benchmarks of this run: ``evaluate.benchmarks``, plus the judge-free forgetting check (mmlu and
    mt_bench_reference, ``run.forgetting``) and mt_bench (``run.mt_bench``)."""
    names = list(config.evaluate.benchmarks)
    if config.run.forgetting:
        names += [name for name in FORGETTING_BENCHMARKS if name not in names]
    if config.run.mt_bench and "mt_bench" not in names:
        names.append("mt_bench")
    return names


@dataclass
class RunContext:
    """What every stage of one run shares: the effective config, the folder layout, the leaves."""

    config: Config
    options: RunOptions
    root: Path
    base: str
    layout: RunLayout
    leaves: list[Leaf]


def prepare_run(config: Config, options: RunOptions) -> RunContext:
    """Check the options against the config, read the changed leaves, and find the run folder (creates nothing)."""
    from taxolab.taxonomy import load_leaves

    if options.profile is not None and config.profile != options.profile.name:
        raise TaxolabError(
            f"the config was not built with profile {options.profile.name!r}: build it with "
            "taxolab.workflow.profiles.load_run_config(path, profile, overrides) so the whole profile applies"
        )
    if options.stop_after is not None and options.stop_after not in STOP_POINTS:
        raise TaxolabError(f"--stop-after {options.stop_after!r}: choose one of {', '.join(STOP_POINTS)}")
    root = Path(options.taxonomy_root or config.paths.resolved("taxonomy")).expanduser()
    base = options.taxonomy_base or config.taxonomy.base
    if not root.is_dir():
        raise TaxolabError(f"{root}: no such taxonomy folder (see --taxonomy-path)")
    layout = (
        RunLayout(options.output_dir)
        if options.output_dir
        else RunLayout.for_taxonomy(config.paths.resolved("runs"), root)
    )
    config = _with_taxonomy(config, root, base)
    leaves = load_leaves(root, base)
    if not leaves:
        raise TaxolabError(
            f"no changed leaves in {root} against base {base!r}; use --taxonomy-base empty to train on every leaf"
        )
    return RunContext(config, options, root, base, layout, leaves)


def run_workflow(config: Config, options: RunOptions) -> RunResult:
    """Run (or resume) the whole loop for the taxonomy; returns where everything is.

    ``config`` is the effective config (profile and overrides applied, see
    :func:`taxolab.workflow.profiles.load_run_config`). When evaluation serves
    the teacher's model again (as judge or base model), the teacher's server
    is kept from generation to evaluation instead of being started twice
    (:func:`taxolab.workflow.data.reused_models`). With ``options.stop_after``
    the walk ends after that stage and ``run.json`` says so (``info.status``
    ``stopped``, ``info.stopped_after``); the same call without it goes on.
    """
    from taxolab.llm.opener import ServerScope, model_sources

    kept = model_sources(reused_models(config, benchmarks_for(config)), config.paths.resolved("models"))
    with ServerScope(kept):
        return _walk(config, options)


def _walk(config: Config, options: RunOptions) -> RunResult:
    run = prepare_run(config, options)
    layout = run.layout
    layout.root.mkdir(parents=True, exist_ok=True)
    manifest = RunManifest.load(layout.root)
    _record_start(manifest, run)
    runner = StageRunner(manifest)
    if run.config.run.max_chunks_per_leaf:
        stderr.print(
            f"budget: at most {run.config.run.max_chunks_per_leaf} document chunks per knowledge leaf "
            "(run.max_chunks_per_leaf; unset it to use every chunk)",
            highlight=False,
        )
    planned, estimates = _planned_seconds(run, manifest)
    runner.walk(build_stages(run, runner, estimates), stop_after=options.stop_after)
    _say_planned_and_measured(manifest, planned, runner)
    next_step = None
    if options.stop_after:
        next_step = _next_step(run, options.stop_after)
        manifest.info.update(status="stopped", stopped_after=options.stop_after, next_step=next_step)
        manifest.save()

    def kept(name: str) -> StageRecord | None:
        return runner.records.get(name)

    train, convert, evaluate = kept("train"), kept("convert"), kept("evaluate")
    gguf = ConvertOutputs.of(convert).gguf if convert else None
    evaluation = EvaluateOutputs.of(evaluate) if evaluate else None
    return RunResult(
        run_dir=layout.root,
        report=layout.report if kept("report") else None,
        gguf=gguf,
        trained_model=TrainOutputs.of(train).final_dir if train else None,
        evaluation=evaluation.results if evaluation else None,
        stages=[
            StageSummary(o.name, o.title, o.skipped, round(o.record.seconds, 1), o.record.outputs.get("throughput"))
            for o in runner.outcomes
            if o.record is not None
        ],
        chat_command=_chat_command(gguf) if gguf else None,
        shipped=evaluation.shipped if evaluation else None,
        phase_recall=TrainOutputs.of(train).phase_recall if train else None,
        stopped_after=options.stop_after,
        next_step=next_step,
    )


def build_stages(run: RunContext, runner: StageRunner, estimates: Estimator) -> list[Stage]:
    """The stages of this run, one per :data:`~taxolab.workflow.stages.STAGES` entry (one per leaf for
    ``generate``), in that order: what ``taxolab run`` executes and ``taxolab run --plan`` walks dry.

    A stage reads the outputs of an earlier one through ``runner.need(name)``
    (in a dry walk that raises :class:`~taxolab.workflow.stages.PendingInputsError`
    while the earlier stage would still run). Stage bodies are this module's
    names (``generate_leaf``, ``mix_leaves``, ``train_model``, ...), looked up
    when a stage runs.
    """
    config, layout, leaves, options = run.config, run.layout, run.leaves, run.options
    benchmarks = benchmarks_for(config)
    outtype = config.run.outtype
    teacher = TeacherSession(config)
    generation = {leaf.name: generation_inputs(config, leaf) for leaf in leaves}
    items = [
        LeafData(leaf, layout.leaf_data(leaf.name, hash_json(generation[leaf.name])), layout.leaf_review(leaf.name))
        for leaf in leaves
    ]

    def reads(kind: str, *, selection: bool = False) -> Callable[[], dict[str, Any]]:
        return functools.partial(STAGE[kind].config_inputs, config, selection=selection)

    def generate(item: LeafData) -> Stage:
        return Stage(
            f"generate:{item.leaf.name}",
            f"{STAGE['generate'].title}: {item.leaf.name}",
            lambda: generate_inputs(generation[item.leaf.name], item),
            lambda: generate_leaf(
                teacher, item.leaf, item.folder, show_progress=options.show_progress, more=more_batches(item)
            ),
            work=generated_tokens,
            estimate=functools.partial(estimates.generation, item.leaf),
            reads=reads("generate"),
            scope=teacher,
        )

    def training() -> tuple[dict[str, Any], dict[str, Any]]:
        return train_inputs(config, MixOutputs.of(runner.need("mix")))

    def train_fingerprint() -> dict[str, Any]:
        work, selection = training()
        return {**work, "selection": selection}

    def trained() -> TrainOutputs:
        return TrainOutputs.of(runner.need("train"))

    def train() -> dict[str, Any]:
        work, _ = training()
        out_dir = layout.training(hash_json(work))
        return train_model(config, layout.mix, out_dir, show_progress=options.show_progress, debug=options.debug)

    def evaluate() -> dict[str, Any]:
        return evaluate_models(
            config,
            trained().final_dir,
            test_dir=DataRun(layout.mix).part(TEST),
            taxonomy_root=run.root,
            taxonomy_base=run.base,
            benchmarks=benchmarks,
            out_dir=layout.evaluation,
            shipped=ConvertOutputs.of(runner.need("convert")).gguf,
        )

    def report() -> dict[str, Any]:
        manifest = runner.manifest
        manifest.info.update(status="complete", finished=_now())
        manifest.save()
        return _report(layout, manifest, _chat_command(ConvertOutputs.of(runner.need("convert")).gguf))

    return [
        Stage(
            "taxonomy",
            STAGE["taxonomy"].title,
            lambda: _leaf_hashes(leaves),
            lambda: _describe(leaves, run.root),
            always=True,
            estimate=estimates.taxonomy,
        ),
        *[generate(item) for item in items],
        Stage(
            "mix",
            STAGE["mix"].title,
            functools.partial(mix_inputs, config, items),
            lambda: mix_leaves(items, layout.mix, layout.name, config),
            estimate=estimates.mix,
            reads=reads("mix"),
        ),
        Stage(
            "train",
            STAGE["train"].title,
            train_fingerprint,
            train,
            work=trained_tokens,
            estimate=estimates.train,
            reads=reads("train", selection=True),
        ),
        Stage(
            "convert",
            f"{STAGE['convert'].title} ({outtype})",
            lambda: convert_inputs(config, runner.need("train").input_hash),
            lambda: convert_model(trained().final_dir, layout.gguf(outtype), outtype),
            estimate=estimates.convert,
            reads=reads("convert"),
        ),
        Stage(
            "evaluate",
            f"{STAGE['evaluate'].title} ({', '.join(benchmarks)})",
            lambda: evaluate_inputs(config, runner.need("train").input_hash, layout, leaves),
            evaluate,
            work=evaluated_questions,
            estimate=functools.partial(estimates.evaluate, benchmarks),
            reads=reads("evaluate"),
        ),
        Stage("report", STAGE["report"].title, dict, report, always=True, estimate=estimates.report),
    ]


def _chat_command(gguf: Path) -> str:
    return f"taxolab model chat --model-path {gguf}"


def _next_step(run: RunContext, stop_after: str) -> str:
    """Where the stopped run's results are and how to go on (the same command without ``--stop-after``)."""
    layout = run.layout
    where = {
        "generate": f"the rows of each leaf are in {layout.root / 'data' / 'leaves'}/<leaf>/<id>/{GENERATED}/ "
        "(see them with `taxolab data show <file>`, dropped rows with --dropped; reject, edit or ask for more "
        f"with `taxolab data review {layout.root}`)",
        "mix": f"the training rows are in {layout.mix} (see them with `taxolab data show {layout.mix}/<file>.jsonl`; "
        f"reject, edit or ask for more with `taxolab data review {layout.root}`)",
        "train": f"the trained model is in {layout.root / 'train'}",
        "convert": f"the GGUF is in {layout.root / 'model'}",
    }[stop_after]
    return f"{where}; run the same command without --stop-after to go on from there"


# The inputs of each stage: one function each, shared by the run and by ``--plan``.


def generation_inputs(config: Config, leaf: Leaf) -> dict[str, Any]:
    """What one leaf's generation depends on: the engine's own fingerprint (its folder is named by this hash).

    :func:`taxolab.sdg.runs.leaf_fingerprint` covers the leaf's folder, the
    pipeline and prompt files its kind runs, the teacher, the settings
    generation reads and the chunk cap; the workflow keeps no second list.
    """
    from taxolab.sdg.runs import leaf_fingerprint

    return {"leaf": leaf.name, "generation": leaf_fingerprint(config, leaf, max_chunks=config.run.max_chunks_per_leaf)}


def more_batches(item: LeafData) -> list[int | None]:
    """The further generation batches the leaf's review asked for (``taxolab data review --more``)."""
    from taxolab.mixing.review import Review

    return Review.load(item.review, item.leaf.name).more if item.review else []


def generate_inputs(generation: dict[str, Any], item: LeafData) -> dict[str, Any]:
    """A leaf's generation stage fingerprint: :func:`generation_inputs` (which names its folder) and the
    further batches its review asked for, so ``--more`` regenerates that leaf alone, in the same folder."""
    more = more_batches(item)
    return {**generation, "more": more} if more else generation


def mix_inputs(config: Config, items: list[LeafData]) -> dict[str, Any]:
    """The leaves' generation folders (named by their input hashes), their review decisions and what mixing reads.

    A leaf without decisions adds nothing, so runs made before reviews existed keep their mix hash.
    """
    from taxolab.mixing.review import Review

    reviews = {item.leaf.name: Review.load(item.review, item.leaf.name).fingerprint() for item in items if item.review}
    more = {item.leaf.name: batches for item in items if (batches := more_batches(item))}
    return {
        "leaves": {item.leaf.name: item.folder.name for item in items},
        **({"more": more} if more else {}),
        **(
            {"review": {name: decided for name, decided in reviews.items() if decided}} if any(reviews.values()) else {}
        ),
        **STAGE["mix"].config_inputs(config),
    }


def train_inputs(config: Config, mix: MixOutputs) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what training computes from, what only chooses among its checkpoints).

    The training folder is named by the first alone, so a changed
    ``select_by`` (or new test questions) re-selects in the same folder,
    where the journal skips the finished phases.
    """
    kind = STAGE["train"]
    settings = kind.config_inputs(config)
    with_selection = kind.config_inputs(config, selection=True)
    work = {"mix": hash_files(mix.mixes), **settings}
    # the dev split chooses checkpoints (taxolab.mixing.splits); the test split never does
    run, dev = DataRun(mix.folder), DataRun(mix.folder).part(DEV)
    selection = {
        "dev": hash_files(run.dev_split_files(), root=dev) if dev.is_dir() else "",
        "settings": {read: value for read, value in with_selection.items() if settings.get(read) != value},
    }
    return work, selection


def evaluate_inputs(config: Config, train_hash: str, layout: RunLayout, leaves: list[Leaf]) -> dict[str, Any]:
    """The trained model (by its stage hash), this run's questions, the taxonomy and what evaluation reads."""
    mix_files = [p for p in layout.mix.rglob("*") if p.is_file() and not is_mix(p)]
    return {
        "train": train_hash,
        "questions": hash_files(mix_files, root=layout.mix),
        "benchmarks": benchmarks_for(config),
        "taxonomy": _leaf_hashes(leaves),
        **STAGE["evaluate"].config_inputs(config),
    }


def convert_inputs(config: Config, train_hash: str) -> dict[str, Any]:
    """The trained model (by its stage hash) and what conversion reads."""
    return {"train": train_hash, **STAGE["convert"].config_inputs(config)}


def _with_taxonomy(config: Config, root: Path, base: str) -> Config:
    """The config as every part reads it: this taxonomy and base."""
    paths = config.paths.model_copy(update={"taxonomy": root})
    taxonomy = config.taxonomy.model_copy(update={"base": base})
    return config.model_copy(update={"paths": paths, "taxonomy": taxonomy})


def _leaf_hashes(leaves: list[Leaf]) -> dict[str, str]:
    return {leaf.name: hash_files([leaf.qna_path.parent], root=leaf.qna_path.parent) for leaf in leaves}


def _describe(leaves: list[Leaf], root: Path) -> dict[str, Any]:
    from taxolab.sdg.runs import taxonomy_commit

    return {
        "commit": taxonomy_commit(root),
        "leaves": [
            {
                "name": leaf.name,
                "kind": str(leaf.kind),
                "version": leaf.version,
                "path": str(leaf.qna_path.relative_to(root)),
                "seed_examples": len(leaf.seed_examples),
                "created_by": leaf.created_by,
                "document": f"{leaf.document.repo}@{leaf.document.commit[:12]}" if leaf.document else None,
            }
            for leaf in leaves
        ],
    }


def dry_walk(run: RunContext, manifest: RunManifest) -> tuple[list[StageOutcome], Estimator]:
    """The walk of ``run`` in dry mode (what ``run --plan`` shows): each stage's outcome, and the estimator used."""
    runner = StageRunner(manifest, dry=True)
    estimates = Estimator(run.config, run.leaves, manifest)
    return runner.walk(build_stages(run, runner, estimates), stop_after=run.options.stop_after), estimates


def _planned_seconds(run: RunContext, manifest: RunManifest) -> tuple[dict[str, float] | None, Estimator]:
    """Seconds the plan gives each stage this call will run, said in one line before the walk (None, said why,
    when the plan cannot be made: the run goes on without it), and the estimator, which the walk reuses."""
    try:
        outcomes, estimates = dry_walk(run, manifest)
    except (TaxolabError, OSError) as exc:
        stderr.print(f"plan: not available ({exc}); the run goes on without an estimate", highlight=False)
        return None, Estimator(run.config, run.leaves, manifest)
    planned = {o.name: o.stage.estimate().seconds for o in outcomes if o.status in ("runs", "always")}
    if planned:
        stderr.print(
            f"plan: ~{format_duration(sum(planned.values()))} for the {len(planned)} stages to run "
            "(expected; taxolab run --plan shows each)",
            highlight=False,
        )
    return planned, estimates


def _say_planned_and_measured(manifest: RunManifest, planned: dict[str, float] | None, runner: StageRunner) -> None:
    """Each stage that ran: the plan's seconds beside the measured ones, printed and kept in ``run.json``
    (``info.timing``), so the plan can be checked against the run it predicted (issue 18: within 1.5x)."""
    measured = {o.name: round(o.record.seconds, 1) for o in runner.outcomes if o.status == "ran" and o.record}
    if not measured:
        return
    plan = planned or {}
    manifest.info["timing"] = {name: {"planned": plan.get(name), "measured": took} for name, took in measured.items()}
    manifest.save()
    if planned is None:
        return
    stderr.print("time per stage, planned -> measured:", highlight=False)
    width = max(len(name) for name in [*measured, "total"])
    for name, took in measured.items():
        guess = "~" + approx_duration(plan[name]) if name in plan else "-"
        stderr.print(f"  {name:<{width}} {guess:>10} -> {format_duration(took)}", highlight=False)
    total_plan, total = sum(plan.get(name, 0.0) for name in measured), sum(measured.values())
    ratio = f" (plan/measured {total_plan / total:.2f})" if total > 0 else ""
    stderr.print(
        f"  {'total':<{width}} {'~' + approx_duration(total_plan):>10} -> {format_duration(total)}{ratio}",
        highlight=False,
    )


def _record_start(manifest: RunManifest, run: RunContext) -> None:
    from taxolab.system_info import collect
    from taxolab.workflow.profiles import PROFILES

    config = run.config
    profile = run.options.profile or PROFILES.get(config.profile or "")
    for stale in ("stopped_after", "next_step"):
        manifest.info.pop(stale, None)
    manifest.info.update(
        status="running",
        started=_now(),
        created=manifest.info.get("created") or _now(),
        profile={
            "name": config.profile or "none",
            "summary": profile.summary if profile else "the config as given, no profile",
            "overrides": profile.overrides if profile else {},
        },
        options={
            "taxonomy_path": str(run.root),
            "taxonomy_base": run.base,
            "benchmarks": benchmarks_for(config),
            **config.run.model_dump(mode="json"),
        },
        versions=collect(),
        config=config.model_dump(mode="json"),
    )
    manifest.save()


def _report(layout: RunLayout, manifest: RunManifest, chat: str) -> dict[str, Any]:
    from taxolab.reports.run_report import write_run_report

    path = write_run_report(layout, manifest, chat_command=chat)
    return {"paths": [str(path)], "report": str(path)}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
