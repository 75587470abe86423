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

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.config import Config
from taxolab.datarun import DROPPED, GENERATED, KNOWLEDGE_MIX, SKILLS_MIX, DataRun
from taxolab.errors import TaxolabError
from taxolab.sdg.runs import RunSummary
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.layout import remove_stale_siblings


class TeacherSession:
    """The teacher's server for the generation stages, started on first use and stopped on exit.

    A rerun whose generation is up to date therefore never loads the teacher;
    a run that generates several leaves starts it once for all of them (each
    leaf's generation opens the teacher, and this scope hands back the server
    the first one started). On exit the server stops, unless an enclosing
    :class:`~taxolab.llm.opener.ServerScope` keeps that model (``taxolab run``
    keeps it when the judge is the same model, see :func:`reused_models`).
    """

    def __init__(self, config: Config) -> None:
        from taxolab.llm.opener import ServerScope

        self.config = config
        self._scope = ServerScope()

    def __enter__(self) -> TeacherSession:
        self._scope.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._scope.__exit__(*exc)

    def generation_config(self) -> Config:
        """The config generation runs with (the teacher is opened from it inside this session)."""
        return self.config


def reused_models(config: Config, benchmarks: list[str]) -> list[str]:
    """The models whose local server ``taxolab run`` keeps from generation to evaluation: the teacher, when
    evaluation serves the same model again (as judge or as base model) for a benchmark that asks a served model.

    Empty when the teacher is remote or up to date runs would serve nothing; the
    server then lives only as long as its stage, as before.
    """
    from taxolab.evaluation.api import REGISTRY
    from taxolab.evaluation.benchmark import JudgedBenchmark
    from taxolab.models.resolve import resolve_model

    if config.generate.endpoint_urls:
        return []
    evaluate = config.evaluate
    served = []
    if not evaluate.judge_endpoint_url:
        served.append(evaluate.judge_model or config.models.judge)
    if not evaluate.base_endpoint_url:
        served.append(evaluate.base_model or config.models.student)
    if not any(issubclass(_benchmark(REGISTRY[name]), JudgedBenchmark) for name in benchmarks if name in REGISTRY):
        return []
    teacher = config.generate.teacher_model or config.models.teacher
    models_dir = config.paths.resolved("models")
    try:
        path = resolve_model(teacher, models_dir).path.resolve()
        same = any(resolve_model(ref, models_dir).path.resolve() == path for ref in served)
    except TaxolabError:
        return []  # a model that does not resolve fails in its own stage, with its own message
    return [teacher] if same else []


def _benchmark(target: str) -> type:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def generate_leaf(
    teacher: TeacherSession,
    leaf: Leaf,
    folder: Path,
    *,
    show_progress: bool,
    api_key: str | None = None,
    more: Sequence[int | None] = (),
) -> dict[str, Any]:
    """Generate one leaf's rows into ``folder`` (resuming an interrupted attempt there); stage outputs.

    Document chunks are capped by ``run.max_chunks_per_leaf`` (part of the generation fingerprint).
    ``more`` lists the further batches a review asked for (``taxolab data review --more``, each at most
    that many rows, None: a whole batch): a finished first batch is kept as it is (no teacher request)
    and each further batch is generated into ``folder/more/<n>`` (:func:`generate_more`).
    """
    from taxolab.mixing.review import MORE_FOLDER
    from taxolab.sdg.generate import generate_data
    from taxolab.sdg.runs import read_manifest

    remove_stale_siblings(folder)
    config = teacher.generation_config()
    record = read_manifest(folder) if folder.is_dir() else None
    done = record is not None and record.get("status") == "complete"
    if more and done and DataRun(folder).leaf_file(GENERATED, leaf.name).is_file():
        counts = (record or {}).get("counts", {}).get("leaves", {}).get(leaf.name, {})
        dropped = dict(counts.get("dropped") or {})
    else:
        result = generate_data(
            config,
            output_dir=folder,
            leaves=[leaf],
            max_chunks=config.run.max_chunks_per_leaf,
            show_progress=show_progress,
            api_key=api_key,
        )
        counts = result.manifest.get("counts", {}).get("leaves", {}).get(leaf.name, {})
        dropped = dict(result.dropped)
    added = [
        generate_more(config, leaf, folder, number, rows, show_progress=show_progress, api_key=api_key)
        for number, rows in enumerate(more, start=1)
    ]
    for stale in (folder / MORE_FOLDER).glob("*"):
        if stale.is_dir() and not (stale.name.isdigit() and 1 <= int(stale.name) <= len(more)):
            shutil.rmtree(stale)  # a batch the review file no longer asks for
    outputs = {"paths": [str(folder)], "folder": str(folder), "counts": counts, "dropped": dropped}
    return {**outputs, "more": added} if more else outputs


def generate_more(
    config: Config,
    leaf: Leaf,
    folder: Path,
    number: int,
    rows: int | None,
    *,
    show_progress: bool,
    api_key: str | None = None,
) -> int:
    """Generate further batch ``number`` of ``leaf`` with generation seed ``generate.seed + number``; rows added.

    The batch runs in ``folder/more/<number>/batch`` (resumable like any generation) and its new rows
    (at most ``rows``; none already in the folder's earlier batches, by :func:`taxolab.mixing.review.row_id`)
    go to ``folder/more/<number>/generated/<leaf>.jsonl``, its dropped rows beside them, which the mix and
    the review read after the first batch's (:func:`taxolab.mixing.review.batch_files`).
    """
    from taxolab.mixing.review import MORE_FOLDER, batch_files, row_id
    from taxolab.sdg.generate import generate_data

    target = folder / MORE_FOLDER / str(number)
    generated = DataRun(target).leaf_file(GENERATED, leaf.name)
    if generated.is_file():
        return len(fsio.read_jsonl(generated))
    seeded = config.model_copy(
        update={"generate": config.generate.model_copy(update={"seed": config.generate.seed + number})}
    )
    result = generate_data(
        seeded,
        output_dir=target / "batch",
        leaves=[leaf],
        max_chunks=config.run.max_chunks_per_leaf,
        show_progress=show_progress,
        api_key=api_key,
    )
    seen = {row_id(row) for path in batch_files(folder, GENERATED, leaf.name) for row in fsio.read_jsonl(path)}
    new: list[dict[str, Any]] = []
    for row in _read_rows(DataRun(result.output_dir).leaf_file(GENERATED, leaf.name)):
        if row_id(row) not in seen and (rows is None or len(new) < rows):
            seen.add(row_id(row))
            new.append(row)
    fsio.write_jsonl(
        DataRun(target).leaf_file(DROPPED, leaf.name),
        _read_rows(DataRun(result.output_dir).leaf_file(DROPPED, leaf.name)),
    )
    fsio.write_jsonl(generated, new)  # last: its presence marks the batch done
    return len(new)


@dataclass(frozen=True)
class LeafData:
    """A leaf, its generation folder and its review decisions file (which may not exist)."""

    leaf: Leaf
    folder: Path
    review: Path | None = None


def mix_leaves(items: list[LeafData], out_dir: Path, run_name: str, config: Config) -> dict[str, Any]:
    """Write the run's training sets, held-out and test files from every leaf's folder; stage outputs.

    The same mixing as ``data generate`` (:func:`taxolab.mixing.build_training_sets`),
    into ``out_dir``, which is emptied first.
    """
    from taxolab.mixing import LeafSource, MixOptions, build_training_sets

    if out_dir.exists():
        shutil.rmtree(out_dir)
    built = build_training_sets(
        [LeafSource(item.leaf, item.folder, item.review) for item in items],
        out_dir,
        run_name,
        MixOptions.from_config(config),
    )
    return {"paths": [str(out_dir), *built["paths"]], "folder": str(out_dir), **built}


def generate_and_mix(config: Config, **generate: Any) -> Any:
    """``taxolab data generate``: generate (:func:`taxolab.sdg.generate.generate_data`), then mix in the same folder.

    The mix is the one ``taxolab run`` makes (:func:`mix_leaves` calls the same
    function); its counts join the manifest under ``counts``. Keyword arguments
    go to ``generate_data``; returns its :class:`~taxolab.sdg.generate.GenerateResult`.
    """
    from taxolab.mixing import LeafSource, MixOptions, build_training_sets
    from taxolab.mixing.review import review_file
    from taxolab.sdg.generate import generate_data
    from taxolab.sdg.runs import write_manifest
    from taxolab.taxonomy import load_leaves

    result = generate_data(config, **generate)
    leaves = generate.get("leaves") or load_leaves(config.paths.resolved("taxonomy"), config.taxonomy.base)
    built = build_training_sets(
        [LeafSource(leaf, result.output_dir, review_file(result.output_dir, leaf.name)) for leaf in leaves],
        result.output_dir,
        result.output_dir.name,
        MixOptions.from_config(config),
    )
    counts = result.manifest.setdefault("counts", {})
    counts.update(built["mixes"])
    for name, mixed in built["leaves"].items():
        counts.setdefault("leaves", {}).setdefault(name, {})["mixed"] = mixed
    write_manifest(result.output_dir, result.manifest)
    return result


def run_data(runs_dir: Path) -> list[RunSummary]:
    """The data of every ``taxolab run`` folder under ``runs_dir`` that has mixed it: its ``data/mix`` folder
    with the counts its ``run.json`` holds, newest first, in the shape ``taxolab data list`` shows for
    ``data generate`` runs (``made_by="taxolab run"``).

    ``status`` is the run's (``complete``, ``running``, ``stopped after mix``); a folder without a
    readable record, or whose mix was never made or has been deleted, is passed over.
    """
    from taxolab.workflow.manifest import MANIFEST_NAME, RunManifest

    found = []
    for root in sorted(Path(runs_dir).glob(f"*/{MANIFEST_NAME}")):
        try:
            manifest = RunManifest.load(root.parent)
        except TaxolabError:
            continue
        mix = manifest.stages.get("mix")
        folder = Path(mix.outputs.get("folder", "")) if mix is not None else None
        if mix is None or folder is None or not folder.is_dir():
            continue
        info, leaves = manifest.info, mix.outputs.get("leaves") or {}
        config = info.get("config") or {}
        generate, models = config.get("generate") or {}, config.get("models") or {}
        status = str(info.get("status", "?"))
        if info.get("stopped_after"):
            status = f"{status} after {info['stopped_after']}"
        mixes = mix.outputs.get("mixes") or {}
        found.append(
            RunSummary(
                folder=folder,
                status=status,
                created=str(info.get("created", "")),
                pipeline=str(generate.get("pipeline", "")),
                teacher=str(generate.get("teacher_model") or models.get("teacher", "")),
                leaves=len(leaves),
                rows=sum(int(counts.get("generated") or 0) for counts in leaves.values()),
                test_questions=sum(int(counts.get("test_questions") or 0) for counts in leaves.values()),
                knowledge_samples=int(mixes.get(KNOWLEDGE_MIX, 0)),
                skills_samples=int(mixes.get(SKILLS_MIX, 0)),
                made_by="taxolab run",
            )
        )
    return sorted(found, key=lambda run: run.created, reverse=True)


def seed_rows(leaf: Leaf) -> list[dict[str, Any]]:
    """The leaf's seed examples as rows of the generated shape (see :func:`taxolab.mixing.seed_rows`)."""
    from taxolab.mixing import seed_rows as rows_of

    return rows_of(leaf)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    return fsio.read_jsonl(path) if path.is_file() else []
