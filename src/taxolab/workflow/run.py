"""``taxolab run`` as one library call: taxonomy -> data -> mix -> train -> evaluate -> GGUF -> report.

Stages and what their input hash covers (so what an edit redoes):

=================  ==========================================================
taxonomy           always runs (a git diff and validation take a second)
generate:<leaf>    that leaf's folder files, teacher, generation settings
mix                every leaf's generation hash, mixing settings
train              the mix files' bytes, student, training settings
evaluate           the training hash, benchmarks, evaluation settings, judge
convert            the training hash, GGUF type
report             always runs (reads every stage's recorded outputs)
=================  ==========================================================

Editing one leaf therefore regenerates that leaf only, then remixes, retrains,
re-evaluates and reconverts; a kill during training resumes training from its
own journal and saved state.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taxolab.config import Config
from taxolab.errors import TaxolabError
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.data import LeafData, TeacherSession, generate_leaf, leaf_generation_inputs, mix_leaves
from taxolab.workflow.hashing import hash_files, hash_json
from taxolab.workflow.layout import RunLayout
from taxolab.workflow.manifest import RunManifest
from taxolab.workflow.model_steps import convert_model, evaluate_models, train_model
from taxolab.workflow.profiles import Profile
from taxolab.workflow.stages import Stage, StageRunner

# Training settings that change how fast a run goes, not what it computes.
_TRAIN_EXECUTION_ONLY = {
    "nproc_per_node",
    "nnodes",
    "node_rank",
    "rdzv_endpoint",
    "threads",
    "data_workers",
    "tensorboard",
}
_EVAL_PLACES = {"output_dir", "cache_dir", "concurrency", "device"}


@dataclass
class RunOptions:
    """Choices of the loop itself; everything else is the config (which the profile has already shaped)."""

    taxonomy_root: Path
    taxonomy_base: str
    profile: Profile
    output_dir: Path | None = None
    benchmarks: list[str] = field(default_factory=list)
    mt_bench: bool = False
    outtype: str = "q8_0"
    max_chunks_per_leaf: int | None = None
    with_seed_examples: bool = True
    show_progress: bool = True
    debug: bool = False


@dataclass
class RunResult:
    run_dir: Path
    report: Path
    gguf: Path
    trained_model: Path
    evaluation: Path
    stages: list[dict[str, Any]]
    chat_command: str

    def to_json(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "report": str(self.report),
            "gguf": str(self.gguf),
            "trained_model": str(self.trained_model),
            "evaluation": str(self.evaluation),
            "stages": self.stages,
            "chat_command": self.chat_command,
        }


def benchmarks_for(config: Config, options: RunOptions) -> list[str]:
    """The benchmarks of this run: as asked, else the config's, plus mt_bench with ``--mt-bench``."""
    names = list(options.benchmarks or config.evaluate.benchmarks)
    if options.mt_bench and "mt_bench" not in names:
        names.append("mt_bench")
    return names


def run_workflow(config: Config, options: RunOptions) -> RunResult:
    """Run (or resume) the whole loop for ``options.taxonomy_root``; returns where everything is."""
    from taxolab.taxonomy import load_leaves

    root = Path(options.taxonomy_root).expanduser()
    if not root.is_dir():
        raise TaxolabError(f"{root}: no such taxonomy folder (see --taxonomy-path)")
    layout = (
        RunLayout(options.output_dir)
        if options.output_dir
        else RunLayout.for_taxonomy(config.paths.resolved("runs"), root)
    )
    layout.root.mkdir(parents=True, exist_ok=True)
    config = _with_taxonomy(config, root, options.taxonomy_base)
    leaves = load_leaves(root, options.taxonomy_base)
    if not leaves:
        raise TaxolabError(
            f"no changed leaves in {root} against base {options.taxonomy_base!r}; "
            "use --taxonomy-base empty to train on every leaf"
        )
    manifest = RunManifest.load(layout.root)
    _record_start(manifest, config, options)
    runner = StageRunner(manifest)
    runner.plan(
        ["taxonomy", *(f"generate:{leaf.name}" for leaf in leaves), "mix", "train", "evaluate", "convert", "report"]
    )

    runner.run(
        Stage(
            "taxonomy",
            "taxonomy: diff and validate",
            lambda: _leaf_hashes(leaves),
            lambda: _describe(leaves, root),
            always=True,
        )
    )
    items = _generate(runner, config, options, layout, leaves)
    mix = runner.run(
        Stage(
            "mix",
            "mix the training sets",
            lambda: {
                "leaves": {item.leaf.name: item.folder.name for item in items},
                "settings": config.generate.model_dump(include={"seed", "distractor_ratio", "knowledge_replay"}),
                "seed_examples": options.with_seed_examples,
            },
            lambda: mix_leaves(items, layout.mix, layout.name, config, with_seeds=options.with_seed_examples),
        )
    )
    mix_files = [Path(p) for p in mix.outputs["paths"][1:]]
    train_inputs = {
        "mix": hash_files(mix_files),
        "tests": hash_files(sorted((layout.mix / "test").glob("*.jsonl"))),
        "student": config.models.student,
        "settings": config.train.model_dump(mode="json", exclude=_TRAIN_EXECUTION_ONLY),
    }
    train_dir = layout.training(hash_json(train_inputs))
    trained = runner.run(
        Stage(
            "train",
            "train (multi-phase)",
            lambda: train_inputs,
            lambda: train_model(
                config, layout.mix, train_dir, show_progress=options.show_progress, debug=options.debug
            ),
        )
    )
    final_dir = Path(trained.outputs["final_dir"])
    benchmarks = benchmarks_for(config, options)
    evaluation = runner.run(
        Stage(
            "evaluate",
            f"evaluate base vs trained ({', '.join(benchmarks)})",
            lambda: {
                "train": trained.input_hash,
                "benchmarks": benchmarks,
                "judge": config.models.judge,
                "settings": config.evaluate.model_dump(mode="json", exclude=_EVAL_PLACES),
                "taxonomy": _leaf_hashes(leaves),
            },
            lambda: evaluate_models(
                config,
                final_dir,
                test_dir=layout.mix / "test",
                taxonomy_root=root,
                taxonomy_base=options.taxonomy_base,
                benchmarks=benchmarks,
                out_dir=layout.evaluation,
            ),
        )
    )
    converted = runner.run(
        Stage(
            "convert",
            f"convert the trained model to GGUF ({options.outtype})",
            lambda: {"train": trained.input_hash, "outtype": options.outtype},
            lambda: convert_model(final_dir, layout.gguf(options.outtype), options.outtype),
        )
    )
    gguf = Path(converted.outputs["gguf"])
    chat = f"taxolab model chat --model-path {gguf}"
    manifest.info.update(status="complete", finished=_now())
    manifest.save()
    runner.run(Stage("report", "write the report", dict, lambda: _report(layout, manifest, options, chat), always=True))
    return RunResult(
        run_dir=layout.root,
        report=layout.report,
        gguf=gguf,
        trained_model=final_dir,
        evaluation=Path(evaluation.outputs["results"]),
        stages=[
            {"name": o.name, "title": o.title, "skipped": o.skipped, "seconds": round(o.record.seconds, 1)}
            for o in runner.outcomes
        ],
        chat_command=chat,
    )


def _generate(
    runner: StageRunner, config: Config, options: RunOptions, layout: RunLayout, leaves: list[Leaf]
) -> list[LeafData]:
    """One stage per leaf, sharing one teacher that starts only if some leaf needs generating."""
    items = []
    with TeacherSession(config) as teacher:
        for leaf in leaves:
            inputs = {**leaf_generation_inputs(leaf, config), "max_chunks": options.max_chunks_per_leaf}
            folder = layout.leaf_data(leaf.name, hash_json(inputs))
            work = functools.partial(
                generate_leaf,
                teacher,
                leaf,
                folder,
                max_chunks=options.max_chunks_per_leaf,
                show_progress=options.show_progress,
            )
            runner.run(
                Stage(f"generate:{leaf.name}", f"generate data: {leaf.name}", functools.partial(dict, inputs), work)
            )
            items.append(LeafData(leaf, folder))
    return items


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


def _record_start(manifest: RunManifest, config: Config, options: RunOptions) -> None:
    from taxolab.system_info import collect

    manifest.info.update(
        status="running",
        started=_now(),
        created=manifest.info.get("created") or _now(),
        profile={
            "name": options.profile.name,
            "summary": options.profile.summary,
            "overrides": options.profile.overrides,
        },
        options={
            "taxonomy_path": str(options.taxonomy_root),
            "taxonomy_base": options.taxonomy_base,
            "benchmarks": benchmarks_for(config, options),
            "outtype": options.outtype,
            "max_chunks_per_leaf": options.max_chunks_per_leaf,
            "with_seed_examples": options.with_seed_examples,
        },
        versions=collect(),
        config=config.model_dump(mode="json"),
    )
    manifest.save()


def _report(layout: RunLayout, manifest: RunManifest, options: RunOptions, chat: str) -> dict[str, Any]:
    from taxolab.reports.run_report import write_run_report

    path = write_run_report(layout, manifest, chat_command=chat)
    return {"paths": [str(path)], "report": str(path)}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
