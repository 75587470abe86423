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
    """Where a knowledge leaf's documents live: a git repo at a commit, files chosen by glob patterns.

    ``line``, ``commit_line`` and ``pattern_lines`` are 1-based lines in the qna.yaml of the
    ``document:`` key, the commit and each pattern (0: unknown), so that document errors can
    point at the line to fix; they take no part in equality.
    """

    repo: str
    commit: str
    patterns: tuple[str, ...]
    line: int = field(default=0, compare=False)
    commit_line: int = field(default=0, compare=False)
    pattern_lines: tuple[int, ...] = field(default=(), compare=False)

    def line_of(self, pattern: str | None = None) -> int:
        """The line of ``pattern`` (or of the ``document:`` key when unknown or not given)."""
        if pattern is not None and pattern in self.patterns and len(self.pattern_lines) == len(self.patterns):
            return self.pattern_lines[self.patterns.index(pattern)]
        return self.line


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
