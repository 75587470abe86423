"""``taxolab data generate`` as a library call: leaves -> seed rows -> pipelines -> run folder.

Everything that can be wrong with the inputs (taxonomy, pipeline files,
documents) is checked before a teacher is started, so a mistake costs seconds.
"""

from __future__ import annotations

import contextlib
import os
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
from taxolab.sdg.chunks import ChunkPlan, TokenCounter, hf_counter, leaf_chunks, words_counter
from taxolab.sdg.executor import Executor, Job, JobResult, LocalExecutor, RunOptions
from taxolab.sdg.library import PipelineSet, load_pipeline_set
from taxolab.sdg.outputs import MixOptions, test_questions, write_leaf, write_training_sets
from taxolab.sdg.pipeline import Pipeline
from taxolab.sdg.runs import choose_run_folder, file_digest, fingerprint, read_manifest, taxonomy_commit, write_manifest
from taxolab.sdg.seeds import knowledge_seeds, mcq_seeds, skill_seeds
from taxolab.sdg.teacher import TeacherSpec, server_slots
from taxolab.taxonomy.model import Leaf, LeafKind

ChunkSource = Callable[[Leaf], list[str]]


@dataclass
class GenerateResult:
    output_dir: Path
    manifest: dict[str, Any]
    dropped: Counter[str] = field(default_factory=Counter)


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
    executor: Executor | None = None,
    show_progress: bool = True,
    api_key: str | None = None,
) -> GenerateResult:
    """Generate data for the changed leaves of the configured taxonomy (or the ``leaves`` given).

    ``chunk_source`` replaces document fetching and chunking (tests, or callers
    that bring their own text). ``api_key`` is for remote endpoints; without it
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
    print_ = fingerprint(
        {
            "leaves": sorted((leaf.name, file_digest(leaf.qna_path)) for leaf in leaves if leaf.qna_path.is_file()),
            "pipelines": pipelines.digest(),
            "teacher": [config.models.teacher, settings.teacher_model],
            "settings": settings.model_dump(exclude={"concurrency", "executor", "ray_address", "endpoint_urls"}),
        }
    )
    folder = choose_run_folder(config.paths.resolved("datasets"), output_dir, print_, resume)
    previous = read_manifest(folder) or {}
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
        "settings": settings.model_dump(),
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
        chunker = chunk_source or _document_chunker(config, plan, teacher.counter)
        jobs, chunk_counts = _jobs(leaves, pipelines, settings.sdg_scale_factor, chunker, folder / "checkpoints")
        for entry in manifest["leaves"]:
            entry["chunks"] = chunk_counts.get(entry["name"])
        write_manifest(folder, manifest)
        options = RunOptions(
            batch_size=settings.batch_size,
            seed=settings.seed,
            gen_defaults={"max_tokens": settings.max_num_tokens},
            show_progress=show_progress,
        )
        generation_started = time.monotonic()
        results = (executor or _executor(settings.executor, settings.ray_address)).run(jobs, teacher.spec, options)
        generation_seconds = time.monotonic() - generation_started
    result = _write_outputs(folder, leaves, results, settings)
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
    return GenerateResult(folder, manifest, dropped)


def _jobs(
    leaves: list[Leaf], pipelines: PipelineSet, scale: int, chunker: ChunkSource, checkpoints: Path
) -> tuple[list[Job], dict[str, int]]:
    jobs: list[Job] = []
    chunk_counts: dict[str, int] = {}
    for leaf in leaves:
        pipeline = pipelines.for_kind(leaf.kind)
        if leaf.kind is LeafKind.KNOWLEDGE:
            chunks = chunker(leaf)
            chunk_counts[leaf.name] = len(chunks)
            if not chunks:
                raise TaxolabError(f"{leaf.qna_path}: the leaf's documents hold no text to generate from")
            jobs.append(_job(leaf, pipeline, knowledge_seeds(leaf, chunks, scale), checkpoints))
            jobs.append(_job(leaf, pipelines.mcq, mcq_seeds(leaf, chunks), checkpoints))
        else:
            jobs.append(_job(leaf, pipeline, skill_seeds(leaf, scale), checkpoints))
    return jobs, chunk_counts


def _job(leaf: Leaf, pipeline: Pipeline, seeds: list[dict[str, Any]], checkpoints: Path) -> Job:
    """A job, after checking that the seed rows carry every column the pipeline declares as input."""
    missing = sorted(pipeline.inputs - set(seeds[0] if seeds else pipeline.inputs))
    if missing:
        raise TaxolabError(
            f"{pipeline.path}: inputs {', '.join(missing)} are not columns of {leaf.kind} seed rows "
            f"(they have: {', '.join(sorted(seeds[0]))})"
        )
    return Job(f"{leaf.name}/{pipeline.name}", pipeline, seeds, checkpoints / leaf.name / pipeline.name)


def _write_outputs(folder: Path, leaves: list[Leaf], results: list[JobResult], settings: Any) -> dict[str, Any]:
    by_key = {r.key: r for r in results}
    knowledge: dict[str, list[dict[str, Any]]] = {}
    skills: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, Any] = {"leaves": {}}
    for leaf in leaves:
        main = next(r for key, r in by_key.items() if key.startswith(f"{leaf.name}/") and not key.endswith("/mcq"))
        mcq = by_key.get(f"{leaf.name}/mcq")
        rows = [{**row, "leaf": leaf.name} for row in main.rows]
        tests = test_questions(mcq.rows, leaf.name) if mcq is not None else None
        write_leaf(folder, leaf.name, rows, tests)
        (knowledge if leaf.is_knowledge else skills)[leaf.name] = rows
        counts["leaves"][leaf.name] = {
            "seeds": main.seeds,
            "rows": len(rows),
            "dropped": dict(main.dropped),
            "resumed_batches": main.resumed_batches,
            "test_questions": len(tests) if tests is not None else None,
            "test_dropped": dict(mcq.dropped) if mcq is not None else None,
        }
    mix = MixOptions(settings.seed, settings.distractor_ratio, settings.knowledge_replay)
    counts.update(write_training_sets(folder, folder.name, knowledge, skills, mix))
    return counts


def _executor(kind: str, ray_address: str | None) -> Executor:
    """The executor named by ``generate.executor``; Ray is imported only when asked for."""
    if kind == "ray":
        from taxolab.sdg.ray_executor import RayExecutor

        return RayExecutor(address=ray_address)
    return LocalExecutor()


def _document_chunker(config: Config, plan: ChunkPlan, counter: TokenCounter) -> ChunkSource:
    def chunks(leaf: Leaf) -> list[str]:
        return leaf_chunks(
            leaf,
            plan,
            counter,
            mirrors=config.documents.mirrors,
            cache_dir=paths.cache_dir() / "documents",
            offline=config.documents.offline,
        )

    return chunks


@contextlib.contextmanager
def _teacher(config: Config, remote_key: str | None) -> Iterator[_Teacher]:
    """The configured endpoints, or the teacher model served locally for the duration of the run."""
    settings = config.generate
    if settings.endpoint_urls:
        from taxolab.llm.server import connect

        key = remote_key or os.environ.get(config.client.api_key_env)
        first = connect(settings.endpoint_urls[0], model=settings.teacher_model, api_key=key)
        spec = TeacherSpec(
            tuple(settings.endpoint_urls),
            first.model,
            api_key=key,
            concurrency=settings.concurrency or sum(server_slots(url, key) for url in settings.endpoint_urls),
            timeout=config.client.timeout,
            max_retries=config.client.max_retries,
        )
        yield _Teacher(spec, local=False, context_tokens=first.ctx_size, counter=words_counter)
        return
    from taxolab.llm.server import model_endpoint

    api_key = config.serve.api_key
    model_path, counter = _local_teacher_model(config)
    with model_endpoint(model_path, None, api_key=api_key, **config.serve.start_options()) as endpoint:
        spec = TeacherSpec(
            (endpoint.url,),
            endpoint.model,
            api_key=api_key,
            concurrency=settings.concurrency or endpoint.parallel,
            timeout=config.client.timeout,
            max_retries=config.client.max_retries,
        )
        yield _Teacher(spec, local=True, context_tokens=endpoint.ctx_size or config.serve.max_ctx_size, counter=counter)


def _local_teacher_model(config: Config) -> tuple[Path, TokenCounter]:
    """The teacher's model file and a counter in its tokens (words-based when no tokenizer is at hand).

    With no endpoint, ``--teacher-model`` names the model to serve (as ``models.teacher`` does).
    """
    ref = config.generate.teacher_model or config.models.teacher
    if ref == "default":
        from taxolab.models.default import default_gguf_path, default_hf_dir

        try:
            counter = hf_counter(default_hf_dir(prepare=True))
        except (TaxolabError, OSError):
            counter = words_counter
        return default_gguf_path(), counter
    from taxolab.models.resolve import resolve_model

    model = resolve_model(ref, config.paths.resolved("models"))
    return model.path, hf_counter(model.path) if model.format == "hf" else words_counter
