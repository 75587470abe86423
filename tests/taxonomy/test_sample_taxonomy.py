"""The whole public sample taxonomy validates, as upstream InstructLab validates it.

Upstream reference: instructlab-schema 0.4.2 (``TaxonomyParser(schema_version=0)``,
the parser ``ilab taxonomy diff`` uses) reports 0 errors and 0 warnings on all
16 files of ../shared/data/taxonomy; it was run once outside this project's
environment and is not a test dependency.
"""

from __future__ import annotations

from pathlib import Path

from taxolab.taxonomy import (
    LeafKind,
    lint_paths,
    load_foundational_skills,
    load_leaf,
    load_leaves,
)

from .conftest import FREEFORM, GROUNDED, GROUNDED_2, KNOWLEDGE, KNOWLEDGE_2


def test_every_sample_file_is_valid_without_warnings(shared_data: Path) -> None:
    report = lint_paths([shared_data / "taxonomy"])
    assert len(report.files) == 16
    assert [str(p) for f in report.files for p in f.problems] == []
    assert report.valid


def test_leaf_kinds_and_versions(shared_data: Path) -> None:
    root = shared_data / "taxonomy"
    kinds = {str(leaf.relative_dir / "qna.yaml"): (leaf.kind, leaf.version) for leaf in load_leaves(root, "empty")}
    assert kinds == {
        KNOWLEDGE: (LeafKind.KNOWLEDGE, 3),
        KNOWLEDGE_2: (LeafKind.KNOWLEDGE, 3),
        FREEFORM: (LeafKind.FREEFORM_SKILL, 3),
        GROUNDED: (LeafKind.GROUNDED_SKILL, 3),
        GROUNDED_2: (LeafKind.GROUNDED_SKILL, 3),
    }


def test_knowledge_leaf_content(shared_data: Path) -> None:
    root = shared_data / "taxonomy"
    leaf = load_leaf(root / KNOWLEDGE, root)
    assert leaf.name == "knowledge_science_animals_birds_black_capped_chickadee"
    assert leaf.domain == "animals" and leaf.created_by == "juliadenham"
    assert len(leaf.seed_examples) == 15  # 5 contexts x 3 questions
    first = leaf.seed_examples[0]
    assert first.question.strip() == "Where do black-capped chickadees live?"
    assert first.context is not None and first.context.startswith("The **black-capped chickadee**")
    assert leaf.document is not None
    assert leaf.document.repo == "https://github.com/juliadenham/Summit_knowledge"
    assert leaf.document.commit == "5f7158a5ce83c4ff493bfe341fe31ecad64ff697"
    assert leaf.document.patterns == ("chickadee.md",)
    assert leaf.document_outline and "distribution" in leaf.document_outline
    assert leaf.raw["domain"] == "animals"


def test_skill_leaf_content(shared_data: Path) -> None:
    root = shared_data / "taxonomy"
    grounded = load_leaf(root / GROUNDED, root)
    assert grounded.task_description == "Rewrite complex texts in an easier way"
    assert all(example.context for example in grounded.seed_examples)
    freeform = load_leaf(root / FREEFORM, root)
    assert len(freeform.seed_examples) == 6
    assert all(example.context is None for example in freeform.seed_examples)
    assert freeform.document is None


def test_foundational_skills_are_read_for_evaluation_only(shared_data: Path) -> None:
    root = shared_data / "taxonomy"
    skills = load_foundational_skills(root)
    assert len(skills) == 11
    assert all(s.kind is LeafKind.FREEFORM_SKILL and s.version == 1 for s in skills)
    assert not any("foundational_skills" in str(leaf.qna_path) for leaf in load_leaves(root, "empty"))
