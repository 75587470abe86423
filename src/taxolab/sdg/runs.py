"""Data run folders: their resume record (``generation.json``), the fingerprint that decides whether a rerun
may resume, listing runs.

A run folder is resumable only by the same work: the fingerprint
(:func:`generation_fingerprint`) hashes everything that shapes the rows
(the leaves' folders, the pipeline and prompt files those leaves use, the
teacher, the settings of :data:`GENERATION_READS` that affect results, a chunk
cap) and nothing that only changes speed. Which settings affect results is
declared on the settings models (:mod:`taxolab.config.affects`). It is the one
generation fingerprint: ``taxolab run`` names each leaf's folder with it
(:func:`leaf_fingerprint`), so editing a custom pipeline regenerates exactly
the leaves that run it, in ``data generate`` and ``taxolab run`` alike.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab.config.affects import read_settings
from taxolab.datarun import KNOWLEDGE_MIX, SKILLS_MIX
from taxolab.errors import TaxolabError
from taxolab.hashing import hash_files, hash_json, short
from taxolab.records import GENERATION, ResumeRecord

if TYPE_CHECKING:
    from taxolab.config.schema import Config
    from taxolab.taxonomy.model import Leaf

MANIFEST = GENERATION


GENERATION_READS: tuple[str, ...] = ("models.teacher", "generate", "serve")
"""The config generation reads (``serve``: the local teacher's context size shapes the chunks)."""


def generation_fingerprint(
    config: Config, leaves: list[Leaf], pipeline_digest: Any, *, max_chunks: int | None = None
) -> str:
    """What a data run's rows depend on: leaf folders, pipeline and prompt files, teacher, settings, chunk cap.

    ``pipeline_digest`` is :meth:`taxolab.sdg.library.PipelineSet.digest` of
    the leaves' kinds; ``max_chunks`` the cap on document chunks per knowledge
    leaf (``run.max_chunks_per_leaf``). 16 hex digits.
    """
    return short(
        hash_json(
            {
                "leaves": sorted((leaf.name, leaf_files_digest(leaf)) for leaf in leaves),
                "pipelines": pipeline_digest,
                "settings": read_settings(config, GENERATION_READS),
                "max_chunks": max_chunks,
            }
        )
    )


def leaf_fingerprint(config: Config, leaf: Leaf, *, max_chunks: int | None = None) -> str:
    """:func:`generation_fingerprint` of one leaf, with the pipelines its kind runs (loaded and validated here).

    Raises :class:`~taxolab.errors.TaxolabError` (or a located error) for a
    missing or invalid pipeline folder.
    """
    from taxolab.sdg.library import load_pipeline_set

    pipelines = load_pipeline_set(config.generate.pipeline)
    return generation_fingerprint(config, [leaf], pipelines.digest([leaf.kind]), max_chunks=max_chunks)


def leaf_files_digest(leaf: Leaf) -> str:
    """The digest of every file in the leaf's folder (its qna.yaml and whatever sits beside it)."""
    folder = leaf.qna_path.parent
    return short(hash_files([folder], root=folder)) if folder.is_dir() else ""


def resumed_batch_size(folder: Path, previous: dict[str, Any], wanted: int) -> int:
    """The batch size to go on with in ``folder``: an unfinished run's own when it saved batches, else ``wanted``.

    The batch is the unit of checkpointing and of sampling seeds
    (:func:`taxolab.sdg.executor.batch_seed`), so a resumed run keeps the size
    it started with; its rows then match an uninterrupted run's exactly.
    ``generate.batch_size`` is still speed-only: a changed value applies from
    the next fresh run, and changing it never refuses a resume.
    """
    started_with = previous.get("settings", {}).get("batch_size")
    if (
        previous.get("status") == "running"
        and isinstance(started_with, int)
        and started_with != wanted
        and any((folder / "checkpoints").glob("*/*/batch-*.json"))
    ):
        from taxolab.console import stderr

        stderr.print(
            f"resuming {folder} with generate.batch_size={started_with}, the size its saved batches have "
            f"(not {wanted}); the new size applies to the next fresh run",
            highlight=False,
        )
        return started_with
    return wanted


def new_run_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The data run's record (``generation.json``) as one dict: its ``info`` plus ``fingerprint``; None if absent.

    An older taxolab's record of this folder is a :class:`TaxolabError` (see
    :meth:`taxolab.records.ResumeRecord.load`).
    """
    record = ResumeRecord.load(folder, MANIFEST)
    if not record.exists():
        return None
    return {**record.info, "fingerprint": record.fingerprint}


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Save ``manifest`` (the dict :func:`read_manifest` returns) as the folder's resume record, atomically."""
    info = {key: value for key, value in manifest.items() if key != "fingerprint"}
    ResumeRecord(folder / MANIFEST, manifest.get("fingerprint"), {}, info).save()


def _listed_manifest(folder: Path) -> dict[str, Any] | None:
    """:func:`read_manifest` for scans of a datasets folder: folders of older versions are passed over."""
    try:
        return read_manifest(folder)
    except TaxolabError:
        return None


def choose_run_folder(datasets_dir: Path, explicit: Path | None, print_: str, resume: bool) -> Path:
    """The folder for this run: the explicit one, a run with the same fingerprint, or a new one.

    Rerunning the same command after a crash finds the unfinished run by its
    fingerprint, so ``--resume`` is only needed to insist (it fails when there
    is nothing to resume). With no unfinished one, the newest finished run with
    the same fingerprint is reused (said on stderr): its checkpoints answer
    every batch, so an identical rerun repeats no teacher request.
    """
    if explicit is not None:
        manifest = read_manifest(explicit)
        if manifest is not None and manifest.get("fingerprint") != print_:
            raise TaxolabError(
                f"{explicit} holds a run with other inputs or settings; choose another --output-dir "
                "(or delete that folder to start over)"
            )
        return explicit
    same = [
        (folder, manifest.get("status"))
        for folder in sorted(datasets_dir.glob("*"), reverse=True)
        if (manifest := _listed_manifest(folder)) is not None and manifest.get("fingerprint") == print_
    ]
    unfinished = [folder for folder, status in same if status != "complete"]
    if unfinished:
        return unfinished[0]
    if same:
        # A finished run with the same fingerprint is reused: its checkpoints hold every batch, so nothing is
        # asked of the teacher again (README: reruns resume).
        from taxolab.console import stderr

        stderr.print(
            f"reusing finished run {same[0][0]} (same inputs and settings); delete it to generate again",
            highlight=False,
            soft_wrap=True,
        )
        return same[0][0]
    if resume:
        raise TaxolabError(f"nothing to resume: no unfinished run with these inputs and settings in {datasets_dir}")
    folder = datasets_dir / new_run_name()
    while folder.exists():
        folder = folder.with_name(folder.name + "_")
    return folder


def taxonomy_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


@dataclass(frozen=True)
class RunSummary:
    folder: Path
    status: str
    created: str
    pipeline: str
    teacher: str
    leaves: int
    rows: int
    test_questions: int
    knowledge_samples: int
    skills_samples: int
    made_by: str = "data generate"
    """``data generate`` (a datasets folder) or ``taxolab run`` (the ``data/mix`` folder of a run)."""


def list_runs(datasets_dir: Path) -> list[RunSummary]:
    """Every run folder with a manifest under ``datasets_dir``, newest first."""
    runs = []
    for folder in sorted(datasets_dir.glob("*"), reverse=True):
        manifest = _listed_manifest(folder)
        if manifest is None:
            continue
        counts = manifest.get("counts", {})
        runs.append(
            RunSummary(
                folder=folder,
                status=str(manifest.get("status", "?")),
                created=str(manifest.get("created", "")),
                pipeline=str(manifest.get("pipeline", {}).get("name", "")),
                teacher=str(manifest.get("teacher", {}).get("model", "")),
                leaves=len(manifest.get("leaves", [])),
                rows=sum(int(c.get("rows") or 0) for c in counts.get("leaves", {}).values()),
                test_questions=sum(int(c.get("test_questions") or 0) for c in counts.get("leaves", {}).values()),
                knowledge_samples=int(counts.get(KNOWLEDGE_MIX, 0)),
                skills_samples=int(counts.get(SKILLS_MIX, 0)),
            )
        )
    return runs
