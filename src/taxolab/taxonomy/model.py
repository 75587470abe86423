"""What a taxonomy leaf *is*, independent of its qna.yaml version.

Readers of every schema version produce these objects; data generation and
evaluation consume only these, never raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class LeafKind(StrEnum):
    KNOWLEDGE = "knowledge"
    FREEFORM_SKILL = "freeform_skill"
    GROUNDED_SKILL = "grounded_skill"


@dataclass(frozen=True)
class SeedExample:
    """One human-written example. ``context`` is the grounding passage (grounded skills, knowledge)."""

    question: str
    answer: str
    context: str | None = None


@dataclass(frozen=True)
class DocumentRef:
    """Where a knowledge leaf's documents live: a git repo at a commit, files chosen by glob patterns."""

    repo: str
    commit: str
    patterns: tuple[str, ...]


@dataclass
class Leaf:
    """A validated taxonomy leaf (one ``qna.yaml``)."""

    qna_path: Path
    taxonomy_root: Path
    kind: LeafKind
    version: int
    created_by: str
    seed_examples: list[SeedExample]
    task_description: str = ""
    domain: str | None = None
    document_outline: str | None = None
    document: DocumentRef | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def relative_dir(self) -> Path:
        """The leaf's folder relative to the taxonomy root, e.g. ``knowledge/science/astronomy``."""
        return self.qna_path.parent.relative_to(self.taxonomy_root)

    @property
    def name(self) -> str:
        """A stable file-safe id for outputs: ``knowledge_science_astronomy``."""
        return "_".join(self.relative_dir.parts)

    @property
    def is_knowledge(self) -> bool:
        return self.kind is LeafKind.KNOWLEDGE
