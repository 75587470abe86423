"""Fixtures for taxonomy tests: a private copy of the sample taxonomy, real git repos, and text positions."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from taxolab.testing.git import run_git

KNOWLEDGE = "knowledge/science/animals/birds/black_capped_chickadee/qna.yaml"
KNOWLEDGE_2 = "knowledge/arts/music/fandom/swifties/qna.yaml"
FREEFORM = "compositional_skills/linguistics/synonyms/qna.yaml"
GROUNDED = "compositional_skills/grounded/linguistics/writing/rewriting/qna.yaml"
GROUNDED_2 = "compositional_skills/grounded/linguistics/inclusion/qna.yaml"
FOUNDATIONAL = "foundational_skills/reasoning/theory_of_mind/qna.yaml"

GitRunner = Callable[..., str]


@pytest.fixture
def taxonomy(shared_data: Path, tmp_path: Path) -> Path:
    """A writable copy of the sample taxonomy (the shared one stays pristine)."""
    target = tmp_path / "taxonomy"
    shutil.copytree(shared_data / "taxonomy", target)
    return target


@pytest.fixture
def git() -> GitRunner:
    return run_git


@pytest.fixture
def taxonomy_repo(taxonomy: Path, tmp_path: Path) -> Path:
    """A clone of an 'upstream' repo holding the sample taxonomy: ``origin/main`` exists, as for contributors."""
    upstream = tmp_path / "upstream"
    shutil.move(taxonomy, upstream)
    run_git(upstream, "init", "-q")
    run_git(upstream, "add", "-A")
    run_git(upstream, "commit", "-q", "-m", "sample taxonomy")
    clone = tmp_path / "taxonomy"
    run_git(tmp_path, "clone", "-q", str(upstream), str(clone))
    return clone


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, col) of the ``occurrence``-th ``needle`` in ``text``: where a problem must point."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col
