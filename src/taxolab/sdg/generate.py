"""``taxolab data generate`` as a library call: leaves -> seed rows -> pipelines -> run folder.

Everything that can be wrong with the inputs (taxonomy, pipeline files,
documents) is checked before a teacher is started, so a mistake costs seconds.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taxolab.config import paths
from taxolab.config.schema import Config
from taxolab.errors import TaxolabError
from taxolab.sdg.blocks.knowledge import leaf_questions_per_span, leaf_spans
from taxolab.sdg.chunks import ChunkPlan, TokenCounter, estimated_tokens, hf_counter, leaf_chunks, spread
from taxolab.sdg.executor import Executor, ExecutorOptions, Job, JobResult, JobRole, LocalExecutor, teacher_stats
from taxolab.sdg.heldout import split_heldout
from taxolab.sdg.library import PipelineSet, load_pipeline_set
from taxolab.sdg.outputs import LeafRows, test_questions, write_leaf
from taxolab.sdg.pipeline import Pipeline
from taxolab.sdg.runs import (
    choose_run_folder,
    generation_fingerprint,
    read_manifest,
    resumed_batch_size,
    taxonomy_commit,
    write_manifest,
)
from taxolab.sdg.seeds import knowledge_seeds, mcq_seeds, skill_seeds
from taxolab.sdg.settings import GenerateSettings
from taxolab.sdg.spans import strip_markdown
from taxolab.sdg.teacher import TeacherSpec
from taxolab.taxonomy.model import Leaf, LeafKind

ChunkSource = Callable[[Leaf], list[str]]


@dataclass
class GenerateResult:
    """Where the run is, its manifest, drops per reason over all leaves, and each leaf's rows.

    Nothing is mixed here: :func:`taxolab.mixing.build_training_sets` makes the
    training sets from ``output_dir`` (``data generate`` and ``taxolab run`` both call it).
    """

    output_dir: Path
    manifest: dict[str, Any]
    dropped: Counter[str] = field(default_factory=Counter)
    leaves: dict[str, LeafRows] = field(default_factory=dict)


@dataclass(frozen=True)
class _Teacher:
    spec: TeacherSpec
    local: bool
    context_tokens: int | None
    counter: TokenCounter


def generate_data(
    config: Config,
    *,
    output_dir: Path | None = None,
    resume: bool = False,
    leaves: list[Leaf] | None = None,
    chunk_source: ChunkSource | None = None,
    max_chunks: int | None = None,
    executor: Executor | None = None,
    show_progress: bool = True,
    api_key: str | None = None,
) -> GenerateResult:
    """Generate data for the changed leaves of the configured taxonomy (or the ``leaves`` given).

    ``chunk_source`` replaces document fetching and chunking (tests, or callers
    that bring their own text). ``max_chunks`` caps a knowledge leaf's chunks,
    spread evenly over its documents (:func:`taxolab.sdg.chunks.spread`; part
    of the fingerprint). ``api_key`` is for remote endpoints; without it
    the key is read from the environment variable named by ``client.api_key_env``.
    """
    settings = config.generate
    started = time.monotonic()
    taxonomy_root = config.paths.resolved("taxonomy")
    if leaves is None:
        from taxolab.taxonomy import load_leaves

        leaves = load_leaves(taxonomy_root, config.taxonomy.base)
    if not leaves:
        raise TaxolabError(
            f"no changed leaves in {taxonomy_root} against base {config.taxonomy.base!r}; "
            "use --taxonomy-base empty to generate for every leaf"
        )
    pipelines = load_pipeline_set(settings.pipeline)
    if chunk_source is None:
        # every leaf's document problems, named with its qna.yaml line, before a teacher starts or is asked
        from taxolab.documents import check_leaf_documents

        check_leaf_documents(
            leaves,
            mirrors=config.documents.mirrors,
            cache_dir=paths.cache_dir() / "documents",
            offline=config.documents.offline,
        )
    print_ = generation_fingerprint(
        config, leaves, pipelines.digest({leaf.kind for leaf in leaves}), max_chunks=max_chunks
    )
    folder = choose_run_folder(config.paths.resolved("datasets"), output_dir, print_, resume)
    previous = read_manifest(folder) or {}
    batch_size = resumed_batch_size(folder, previous, settings.batch_size)
    manifest: dict[str, Any] = {
        "run": folder.name,
        "status": "running",
        "fingerprint": print_,
        "created": previous.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
        "taxonomy": {
            "path": str(taxonomy_root),
            "base": config.taxonomy.base,
            "commit": taxonomy_commit(taxonomy_root),
        },
        "leaves": [{"name": leaf.name, "kind": str(leaf.kind), "qna": str(leaf.qna_path)} for leaf in leaves],
        "pipeline": {"name": settings.pipeline, "files": pipelines.files()},
        "settings": {**settings.model_dump(), "batch_size": batch_size},
    }
    with _teacher(config, api_key) as teacher:
        manifest["teacher"] = {
            "model": teacher.spec.model,
            "endpoints": list(teacher.spec.urls),
            "local": teacher.local,
        }
        plan = ChunkPlan.fit(
            settings.chunk_word_count, settings.chunk_overlap, teacher.context_tokens, settings.max_num_tokens
        )
        chunker = _capped(chunk_source or _document_chunker(config, plan, teacher.counter), max_chunks)
        jobs, chunks = _jobs(leaves, pipelines, settings, chunker, folder / "checkpoints")
        asked = {job.leaf: job.settings["questions_per_span"] for job in jobs if "questions_per_span" in job.settings}
        for entry in manifest["leaves"]:
            entry["chunks"] = len(chunks[entry["name"]]) if entry["name"] in chunks else None
            if entry["name"] in asked:
                entry["questions_per_span"] = asked[entry["name"]]
        write_manifest(folder, manifest)
        options = ExecutorOptions(
            batch_size=batch_size,
            seed=settings.seed,
            gen_defaults={"max_tokens": settings.max_num_tokens},
            show_progress=show_progress,
            settings={
                "questions_per_span": settings.questions_per_span,
                "max_attempts_per_span": settings.max_attempts_per_span,
            },
        )
        generation_started = time.monotonic()
        runner = executor or _executor(settings.executor, settings.ray_address)
        results = runner.run(jobs, teacher.spec, options)
        generation_seconds = time.monotonic() - generation_started
        stats = teacher_stats(runner)
        if stats is not None:
            manifest["teacher"].update(requests=stats.requests, retries=stats.retries)
    per_leaf = _leaf_rows(leaves, results, chunks, settings.seed)
    for rows in per_leaf.values():
        write_leaf(folder, rows)
    result = {"leaves": {leaf.name: _counts(per_leaf[leaf.name], results, leaf.name) for leaf in leaves}}
    manifest.update(
        status="complete",
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        counts=result,
        timings={
            "total_seconds": round(time.monotonic() - started, 2),
            "generation_seconds": round(generation_seconds, 2),
            "jobs": {r.key: round(r.seconds, 2) for r in results},
        },
        teacher_tokens={r.key: r.completion_tokens for r in results},
    )
    write_manifest(folder, manifest)
    dropped: Counter[str] = Counter()
    for r in results:
        dropped.update(r.dropped)
    return GenerateResult(folder, manifest, dropped, per_leaf)


def _jobs(
    leaves: list[Leaf], pipelines: PipelineSet, settings: GenerateSettings, chunker: ChunkSource, checkpoints: Path
) -> tuple[list[Job], dict[str, list[str]]]:
    """Each leaf's jobs (role ``main``, and ``mcq`` for knowledge) and each knowledge leaf's chunks.

    A knowledge job's ``questions_per_span`` is its leaf's (:func:`leaf_questions_per_span`).
    """
    scale = settings.sdg_scale_factor
    jobs: list[Job] = []
    chunks_by_leaf: dict[str, list[str]] = {}
    for leaf in leaves:
        pipeline = pipelines.for_kind(leaf.kind)
        if leaf.kind is LeafKind.KNOWLEDGE:
            chunks = chunker(leaf)
            chunks_by_leaf[leaf.name] = chunks
            if not chunks:
                raise TaxolabError(f"{leaf.qna_path}: the leaf's documents hold no text to generate from")
            seeds = knowledge_seeds(leaf, chunks, scale, per_chunk=pipeline.seed_rows == "per_chunk")
            job = _job(leaf, pipeline, seeds, checkpoints)
            spans = leaf_spans(pipeline.blocks, seeds)
            if spans:
                wanted = leaf_questions_per_span(spans, settings.questions_per_span, settings.questions_per_leaf)
                job.settings = {"questions_per_span": wanted}
            jobs.append(job)
            jobs.append(_job(leaf, pipelines.mcq, mcq_seeds(leaf, chunks), checkpoints, role="mcq"))
        else:
            jobs.append(_job(leaf, pipeline, skill_seeds(leaf, scale), checkpoints))
    return jobs, chunks_by_leaf


def _job(leaf: Leaf, pipeline: Pipeline, seeds: list[dict[str, Any]], checkpoints: Path, role: JobRole = "main") -> Job:
    """A job, after checking that the seed rows carry every column the pipeline declares as input."""
    missing = sorted(pipeline.inputs - set(seeds[0] if seeds else pipeline.inputs))
    if missing:
        raise TaxolabError(
            f"{pipeline.path}: inputs {', '.join(missing)} are not columns of {leaf.kind} seed rows "
            f"(they have: {', '.join(sorted(seeds[0]))})"
        )
    return Job(
        f"{leaf.name}/{pipeline.name}",
        pipeline,
        seeds,
        checkpoints / leaf.name / pipeline.name,
        leaf=leaf.name,
        role=role,
    )


def _leaf_rows(
    leaves: list[Leaf], results: list[JobResult], chunks: dict[str, list[str]], seed: int
) -> dict[str, LeafRows]:
    """Each leaf's rows from its jobs: training rows and held-out pairs split, passages, tests, drops."""
    out: dict[str, LeafRows] = {}
    for leaf in leaves:
        main = next(r for r in results if r.leaf == leaf.name and r.role == "main")
        mcq = next((r for r in results if r.leaf == leaf.name and r.role == "mcq"), None)
        rows = [{**row, "leaf": leaf.name} for row in main.rows]
        heldout: list[dict[str, Any]] = []
        if leaf.is_knowledge:
            rows, heldout = split_heldout(rows, seed=seed, leaf=leaf.name)
        passages = [
            {"text": text, "leaf": leaf.name, "index": index}
            for index, text in enumerate(strip_markdown(chunk) for chunk in chunks.get(leaf.name, []))
            if text
        ]
        dropped = Counter(main.dropped)
        rejected = [{**entry, "job": "main"} for entry in main.rejected]
        if mcq is not None:
            rejected += [{**entry, "job": "mcq"} for entry in mcq.rejected]
        out[leaf.name] = LeafRows(
            leaf.name,
            rows,
            heldout=heldout,
            tests=test_questions(mcq.rows, leaf.name) if mcq is not None else None,
            passages=passages,
            rejected=rejected,
            dropped=dropped,
        )
    return out


def _counts(rows: LeafRows, results: list[JobResult], leaf: str) -> dict[str, Any]:
    main = next(r for r in results if r.leaf == leaf and r.role == "main")
    mcq = next((r for r in results if r.leaf == leaf and r.role == "mcq"), None)
    return {
        "seeds": main.seeds,
        "rows": len(rows.rows),
        "heldout": len(rows.heldout),
        "passages": len(rows.passages),
        "dropped": dict(main.dropped),
        "resumed_batches": main.resumed_batches,
        "test_questions": len(rows.tests) if rows.tests is not None else None,
        "test_dropped": dict(mcq.dropped) if mcq is not None else None,
    }


def _executor(kind: str, ray_address: str | None) -> Executor:
    """The executor named by ``generate.executor``; Ray is imported only when asked for."""
    if kind == "ray":
        from taxolab.sdg.ray_executor import RayExecutor

        return RayExecutor(address=ray_address)
    return LocalExecutor()


def _capped(chunker: ChunkSource, max_chunks: int | None) -> ChunkSource:
    """At most ``max_chunks`` of a leaf's chunks, evenly spread: a small profile cannot afford every chunk."""
    if not max_chunks:
        return chunker

    def chunks(leaf: Leaf) -> list[str]:
        return spread(chunker(leaf), max_chunks)

    return chunks


def _document_chunker(config: Config, plan: ChunkPlan, counter: TokenCounter) -> ChunkSource:
    def chunks(leaf: Leaf) -> list[str]:
        return leaf_chunks(leaf, plan, counter, config.documents)

    return chunks


@contextlib.contextmanager
def _teacher(config: Config, remote_key: str | None) -> Iterator[_Teacher]:
    """The configured endpoints, or the teacher model served locally (or reused) for the duration of the run.

    ``remote_key`` is the API key for the endpoints (default: the variable named by ``client.api_key_env``).
    """
    from taxolab.llm.opener import open_models

    settings = config.generate
    urls = list(settings.endpoint_urls)
    ref = settings.teacher_model if urls else settings.teacher_model or config.models.teacher
    with open_models(
        ref,
        urls,
        serve=config.serve,
        models_dir=config.paths.resolved("models"),
        client=config.client,
        api_key=remote_key,
    ) as endpoints:
        spec = TeacherSpec.of(endpoints, settings.concurrency)
        if urls:
            yield _Teacher(
                spec, local=False, context_tokens=endpoints[0].ctx_size, counter=teacher_token_counter(config)
            )
        else:
            context = endpoints[0].ctx_size or config.serve.max_ctx_size
            yield _Teacher(spec, local=True, context_tokens=context, counter=teacher_token_counter(config))


def teacher_token_counter(config: Config) -> TokenCounter:
    """The counter documents are chunked with: the local teacher's own tokens, else :func:`estimated_tokens`
    (remote endpoints, or a plain GGUF with no tokenizer at hand). ``taxolab run --plan`` counts chunks with it
    too, so the plan's chunks are generation's.

    With no endpoint, ``--teacher-model`` names the model to serve (as ``models.teacher`` does).
    """
    from taxolab.models.resolve import tokenizer_folder

    if config.generate.endpoint_urls:
        return estimated_tokens
    ref = config.generate.teacher_model or config.models.teacher
    try:
        folder = tokenizer_folder(ref, config.paths.resolved("models"))
        return hf_counter(folder) if folder is not None else estimated_tokens
    except (TaxolabError, OSError):
        return estimated_tokens
