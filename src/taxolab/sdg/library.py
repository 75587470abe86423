"""Which pipeline files a run uses: the shipped `simple` / `full` sets or a user's folder.

A pipeline folder holds ``knowledge.yaml``, ``freeform_skills.yaml`` and
``grounded_skills.yaml`` (and optionally ``mcq.yaml``, else the shipped one);
prompts are found next to the pipelines, in a ``prompts/`` subfolder, or among
the shipped prompts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from taxolab.errors import TaxolabError
from taxolab.hashing import hash_bytes, short
from taxolab.sdg.pipeline import Pipeline, check_outputs, load_pipeline
from taxolab.taxonomy.model import LeafKind

SHIPPED = Path(__file__).resolve().parent / "pipelines"
FILES = {
    LeafKind.KNOWLEDGE: "knowledge.yaml",
    LeafKind.FREEFORM_SKILL: "freeform_skills.yaml",
    LeafKind.GROUNDED_SKILL: "grounded_skills.yaml",
}
NEEDED = {
    LeafKind.KNOWLEDGE: {"question", "answer", "document"},
    LeafKind.FREEFORM_SKILL: {"question", "answer"},
    LeafKind.GROUNDED_SKILL: {"question", "answer"},
}
"""Columns mixing reads from each kind's rows (:mod:`taxolab.mixing.training_sets`)."""


@dataclass(frozen=True)
class PipelineSet:
    folder: Path
    pipelines: dict[LeafKind, Pipeline]
    mcq: Pipeline

    def for_kind(self, kind: LeafKind) -> Pipeline:
        return self.pipelines[kind]

    def all(self) -> list[Pipeline]:
        return [*self.pipelines.values(), self.mcq]

    def used_by(self, kinds: Iterable[LeafKind]) -> list[Pipeline]:
        """The pipelines leaves of these kinds run: their kind's, and the MCQ one for knowledge leaves."""
        wanted = set(kinds)
        used = [self.pipelines[kind] for kind in FILES if kind in wanted]
        return [*used, self.mcq] if LeafKind.KNOWLEDGE in wanted else used

    def files(self, kinds: Iterable[LeafKind] | None = None) -> dict[str, str]:
        """Every pipeline and prompt file used (by leaves of ``kinds``; None: by any leaf), with its digest.

        Recorded in the manifest; :meth:`digest` puts the same in fingerprints.
        """
        pipelines = self.all() if kinds is None else self.used_by(kinds)
        found = {str(path): short(hash_bytes(path)) for pipeline in pipelines for path in pipeline.files}
        return dict(sorted(found.items()))

    def digest(self, kinds: Iterable[LeafKind] | None = None) -> list[list[str]]:
        """``[[file name, digest], ...]`` of :meth:`files`: what leaves of ``kinds`` depend on.

        Editing a custom ``freeform_skills.yaml`` (or a prompt only it uses)
        therefore changes the fingerprint of freeform skill leaves only.
        """
        return sorted([Path(path).name, digest] for path, digest in self.files(kinds).items())


def shipped_names() -> list[str]:
    return sorted(path.name for path in SHIPPED.iterdir() if path.is_dir())


def load_pipeline_set(name_or_path: str) -> PipelineSet:
    """``simple``, ``full`` or a folder; every pipeline is loaded and validated here."""
    folder = SHIPPED / name_or_path if name_or_path in shipped_names() else Path(name_or_path).expanduser()
    if not folder.is_dir():
        raise TaxolabError(f"pipeline {name_or_path!r} is neither {' nor '.join(shipped_names())} nor a folder")
    pipelines = {}
    for kind, file in FILES.items():
        if not (folder / file).is_file():
            raise TaxolabError(f"{folder}: pipeline folder lacks {file} (it needs {', '.join(FILES.values())})")
        pipelines[kind] = load_pipeline(folder / file)
        check_outputs(pipelines[kind], NEEDED[kind], "mixing")
    mcq = load_pipeline(folder / "mcq.yaml" if (folder / "mcq.yaml").is_file() else SHIPPED / "mcq.yaml")
    check_outputs(mcq, {"question", "choices", "answer"}, "the test questions (mmlu_branch)")
    return PipelineSet(folder, pipelines, mcq)
