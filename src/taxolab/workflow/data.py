"""The data half of the loop: one generation folder per leaf, then one mix over all of them.

Generating each leaf into its own folder (named by the hash of that leaf's
inputs) is what lets an edit of one leaf regenerate that leaf alone: the other
leaves' folders keep their hashes and are reused as they are. The mix reads
every leaf's rows and writes the training sets in the layout training reads
(contract C), together with the leaves' human-written seed examples, which
are the best data a run has and keep the mix non-empty when a small teacher
gets few rows through the filters.
"""

from __future__ import annotations

import contextlib
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.config import Config
from taxolab.sdg.outputs import MixOptions, write_training_sets
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.hashing import hash_files
from taxolab.workflow.layout import remove_stale_siblings

# Settings that change only how fast rows come, never which rows.
_SPEED_ONLY = {"concurrency", "executor", "ray_address", "endpoint_urls", "batch_size"}


def leaf_generation_inputs(leaf: Leaf, config: Config) -> dict[str, Any]:
    """What one leaf's generated rows depend on: its folder's files, the teacher and the generation settings."""
    settings = config.generate.model_dump(mode="json", exclude=_SPEED_ONLY)
    return {
        "leaf": leaf.name,
        "files": hash_files([leaf.qna_path.parent], root=leaf.qna_path.parent),
        "teacher": [config.models.teacher, config.generate.teacher_model, list(config.generate.endpoint_urls)],
        "settings": settings,
    }


class TeacherSession:
    """The teacher endpoint for the generation stages, started on first use and stopped on exit.

    A rerun whose generation is up to date therefore never loads the teacher;
    a run that generates several leaves starts it once for all of them.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._stack = contextlib.ExitStack()
        self._ready: Config | None = None

    def __enter__(self) -> TeacherSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def generation_config(self) -> Config:
        """The config with ``generate.endpoint_urls`` pointing at a live teacher."""
        if self._ready is not None:
            return self._ready
        settings = self.config.generate
        if settings.endpoint_urls:
            self._ready = self.config
            return self._ready
        from taxolab.llm.server import model_endpoint

        serve = self.config.serve
        endpoint = self._stack.enter_context(
            model_endpoint(self._teacher_path(), None, api_key=serve.api_key, **serve.start_options())
        )
        generate = settings.model_copy(
            update={
                "endpoint_urls": [endpoint.url],
                "teacher_model": endpoint.model,
                "concurrency": settings.concurrency or endpoint.parallel,
            }
        )
        self._ready = self.config.model_copy(update={"generate": generate})
        return self._ready

    def _teacher_path(self) -> Path:
        ref = self.config.generate.teacher_model or self.config.models.teacher
        from taxolab.models.resolve import resolve_model

        return resolve_model(ref, self.config.paths.resolved("models")).path


def generate_leaf(
    teacher: TeacherSession,
    leaf: Leaf,
    folder: Path,
    *,
    max_chunks: int | None,
    show_progress: bool,
    api_key: str | None = None,
) -> dict[str, Any]:
    """Generate one leaf's rows into ``folder`` (resuming an interrupted attempt there); stage outputs."""
    from taxolab.sdg.generate import generate_data

    remove_stale_siblings(folder)
    config = teacher.generation_config()
    result = generate_data(
        config,
        output_dir=folder,
        leaves=[leaf],
        chunk_source=limited_chunks(config, max_chunks) if max_chunks else None,
        show_progress=show_progress,
        api_key=api_key,
    )
    counts = result.manifest.get("counts", {}).get("leaves", {}).get(leaf.name, {})
    return {"paths": [str(folder)], "folder": str(folder), "counts": counts, "dropped": dict(result.dropped)}


def limited_chunks(config: Config, max_chunks: int) -> Callable[[Leaf], list[str]]:
    """Document chunks as generation makes them, thinned to ``max_chunks`` spread evenly over the documents.

    A small profile cannot afford a teacher pass over every chunk of a long
    document; an even spread keeps questions from all of it.
    """
    from taxolab.config import paths
    from taxolab.sdg.chunks import ChunkPlan, leaf_chunks, words_counter

    settings = config.generate
    plan = ChunkPlan.fit(
        settings.chunk_word_count, settings.chunk_overlap, config.serve.max_ctx_size, settings.max_num_tokens
    )

    def chunks(leaf: Leaf) -> list[str]:
        found = leaf_chunks(
            leaf,
            plan,
            words_counter,
            mirrors=config.documents.mirrors,
            cache_dir=paths.cache_dir() / "documents",
            offline=config.documents.offline,
        )
        return spread(found, max_chunks)

    return chunks


def spread(items: list[str], limit: int) -> list[str]:
    """At most ``limit`` items, evenly spaced from first to last, in order."""
    if len(items) <= limit:
        return items
    if limit == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


@dataclass(frozen=True)
class LeafData:
    leaf: Leaf
    folder: Path


def mix_leaves(
    items: list[LeafData], out_dir: Path, run_name: str, config: Config, *, with_seeds: bool
) -> dict[str, Any]:
    """Write the run's training mixes and test questions from every leaf's folder; stage outputs."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    knowledge: dict[str, list[dict[str, Any]]] = {}
    skills: dict[str, list[dict[str, Any]]] = {}
    per_leaf: dict[str, dict[str, Any]] = {}
    for item in items:
        name = item.leaf.name
        rows = _read_rows(item.folder / "generated" / f"{name}.jsonl")
        seeds = seed_rows(item.leaf) if with_seeds else []
        (knowledge if item.leaf.is_knowledge else skills)[name] = rows + seeds
        tests = _read_rows(item.folder / "test" / f"{name}.jsonl")
        source = "generated"
        if item.leaf.is_knowledge and not tests:
            tests, source = seed_test_questions(item.leaf, config.generate.seed), "seed examples"
        if tests:
            fsio.write_jsonl(out_dir / "test" / f"{name}.jsonl", tests)
        per_leaf[name] = {
            "generated": len(rows),
            "seed_examples": len(seeds),
            "test_questions": len(tests),
            "test_source": source if tests else None,
        }
    settings = config.generate
    counts = write_training_sets(
        out_dir,
        run_name,
        knowledge,
        skills,
        MixOptions(settings.seed, settings.distractor_ratio, settings.knowledge_replay),
    )
    # An empty mix would plan a phase with nothing to train on: leave it out.
    for name, count in counts.items():
        if count == 0:
            (out_dir / f"{name}_{run_name}.jsonl").unlink(missing_ok=True)
    mixes = sorted(str(p) for p in out_dir.glob("*_train_msgs_*.jsonl"))
    return {"paths": [str(out_dir), *mixes], "folder": str(out_dir), "mixes": counts, "leaves": per_leaf}


def seed_rows(leaf: Leaf) -> list[dict[str, Any]]:
    """The leaf's seed examples as rows of the generated shape (knowledge rows carry their context as document)."""
    rows = []
    for example in leaf.seed_examples:
        row: dict[str, Any] = {"question": example.question, "answer": example.answer, "leaf": leaf.name}
        if leaf.is_knowledge:
            row.update(document=example.context or "", dataset_type="seed_example")
        elif example.context:
            row["context"] = example.context
        rows.append(row)
    return rows


def seed_test_questions(leaf: Leaf, seed: int) -> list[dict[str, Any]]:
    """Multiple-choice questions from the leaf's own seed pairs, the other pairs' answers as wrong choices.

    The fallback when the teacher wrote no usable test question (small
    teachers often do not): mmlu_branch then measures whether training made
    the model prefer the documented answers, which is what the seeds teach.
    """
    pairs = [(e.question.strip(), e.answer.strip()) for e in leaf.seed_examples]
    answers = list(dict.fromkeys(answer for _, answer in pairs))
    if len(answers) < 4:
        return []
    rng = random.Random(f"{seed}:{leaf.name}")
    questions = []
    for question, answer in pairs:
        choices = [answer, *rng.sample([a for a in answers if a != answer], 3)]
        rng.shuffle(choices)
        questions.append({"question": question, "choices": choices, "answer": choices.index(answer), "leaf": leaf.name})
    return questions


REPORT_COLUMNS = ("dataset_type", "context", "document", "question", "answer")


def sample_rows(folder: Path, leaf: str, limit: int = 3, width: int = 400) -> list[dict[str, Any]]:
    """A few generated rows of a leaf for the report: the columns a reader checks, long texts shortened."""
    rows = []
    for row in _read_rows(folder / "generated" / f"{leaf}.jsonl")[:limit]:
        shown = {key: row[key] for key in REPORT_COLUMNS if row.get(key)}
        rows.append({k: v[:width] + " ..." if isinstance(v, str) and len(v) > width else v for k, v in shown.items()})
    return rows


def _read_rows(path: Path) -> list[dict[str, Any]]:
    return fsio.read_jsonl(path) if path.is_file() else []
