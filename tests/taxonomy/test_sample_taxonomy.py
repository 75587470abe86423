"""The whole public sample taxonomy validates, as upstream InstructLab validates it; the packaged
quick-start sample (`taxolab taxonomy sample`) works from package data alone.

Upstream reference: instructlab-schema 0.4.2 (``TaxonomyParser(schema_version=0)``,
the parser ``ilab taxonomy diff`` uses) reports 0 errors and 0 warnings on all
16 files of ../shared/data/taxonomy; it was run once outside this project's
environment and is not a test dependency.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.taxonomy import (
    LeafKind,
    lint_paths,
    load_foundational_skills,
    load_leaf,
    load_leaves,
)
from taxolab.taxonomy.sample import KNOWLEDGE_LEAF, LEAVES, SKILL_LEAF, sample_files, write_sample

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


# -- the packaged quick-start sample -------------------------------------------------------------

SUMMIT_COMMIT = "5f7158a5ce83c4ff493bfe341fe31ecad64ff697"
OPENED_UNDER_SHARED: list[str] = []
_WATCHING: list[bool] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING and event == "open" and args and "/shared/" in str(args[0]):
        OPENED_UNDER_SHARED.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working folder and home, a private cache, and a record of any file opened under shared/."""
    for name in ("work", "home", "cache"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TAXOLAB_CACHE_DIR", str(tmp_path / "cache"))
    OPENED_UNDER_SHARED.clear()
    _WATCHING.append(True)
    (tmp_path / "probe" / "shared").mkdir(parents=True)
    (tmp_path / "probe" / "shared" / "x").write_text("")  # the watch itself works
    assert OPENED_UNDER_SHARED
    OPENED_UNDER_SHARED.clear()
    try:
        yield tmp_path
    finally:
        _WATCHING.clear()


def test_packaged_sample_is_a_committed_repo_whose_leaves_are_all_new(
    bare_machine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = bare_machine / "work" / "sample"
    assert main(["taxonomy", "sample", str(dest), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["leaves"] == list(LEAVES)
    assert main(["taxonomy", "diff", "--taxonomy-path", str(dest), "--strict", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(f["path"].removesuffix("/qna.yaml") for f in report["files"]) == sorted(LEAVES)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=dest, capture_output=True, text=True, check=True)
    assert status.stdout == ""  # everything committed, nothing left over
    assert OPENED_UNDER_SHARED == []


def test_packaged_document_is_read_offline_without_mirrors(bare_machine: Path) -> None:
    from taxolab.documents import load_leaf_documents

    done = write_sample(bare_machine / "work" / "sample")
    leaf = load_leaf(done.taxonomy / KNOWLEDGE_LEAF / "qna.yaml", done.taxonomy)
    assert leaf.document is not None and leaf.document.commit == done.document_commit
    docs = load_leaf_documents(leaf, mirrors={}, cache_dir=bare_machine / "cache" / "documents", offline=True)
    assert [d.name for d in docs] == ["chickadee.md"]
    assert "black-capped chickadee" in docs[0].text
    assert OPENED_UNDER_SHARED == []
    skill = load_leaf(done.taxonomy / SKILL_LEAF / "qna.yaml", done.taxonomy)
    assert skill.kind is LeafKind.FREEFORM_SKILL


def test_packaged_sample_is_the_same_on_every_machine(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", cache_dir=tmp_path / "cache-a")
    second = write_sample(tmp_path / "b", cache_dir=tmp_path / "cache-b")
    assert first.document_commit == second.document_commit == "36a54ed5d3f2f8c9032c504b8737c2e3c5a0ce25"
    assert first.commit == second.commit  # fixed identity and date: the taxonomy commit repeats too


def test_packaged_sample_refuses_a_folder_with_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["taxonomy", "sample", str(tmp_path / "full")]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["keep.txt"]


def test_packaged_sample_matches_the_public_one(shared_data: Path) -> None:
    """Same leaves as the public taxonomy (only the document commit differs), same document bytes as upstream."""
    packaged = sample_files() / "taxonomy"
    for leaf in LEAVES:
        ours = (packaged / leaf / "qna.yaml").read_text()
        public = (shared_data / "taxonomy" / leaf / "qna.yaml").read_text()
        kept = [line for line in ours.splitlines() if not line.startswith("#")]
        assert "\n".join(kept).replace("36a54ed5d3f2f8c9032c504b8737c2e3c5a0ce25", SUMMIT_COMMIT) == public.rstrip("\n")


def test_seeding_keeps_an_upstream_clone_already_in_the_cache(shared_data: Path, tmp_path: Path) -> None:
    from taxolab.documents import fetch_tree

    cache = tmp_path / "cache"
    repo = "https://github.com/juliadenham/Summit_knowledge"
    mirrors = {repo: str(shared_data / "summit_knowledge.bundle")}
    upstream = fetch_tree(repo, SUMMIT_COMMIT, mirrors=mirrors, cache_dir=cache, offline=True)
    done = write_sample(tmp_path / "sample", cache_dir=cache)
    ours = fetch_tree(repo, done.document_commit, mirrors={}, cache_dir=cache, offline=True)
    assert (ours / "chickadee.md").read_bytes() == (upstream / "chickadee.md").read_bytes()
    assert fetch_tree(repo, SUMMIT_COMMIT, mirrors={}, cache_dir=cache, offline=True) == upstream


def test_knowledge_seed_texts_lose_their_wraps_and_skill_answers_keep_their_lines(tmp_path: Path) -> None:
    """Issue 16: the chickadee leaf's contexts and answers are hard-wrapped at ~75 columns in ``|`` block
    scalars; trained as they were, the student answered "a small,\\nnonmigratory, ...". Knowledge seed texts
    are read with each paragraph on one line; a skill's answer keeps its lines (the synonyms, one per line)."""
    done = write_sample(tmp_path / "sample", cache_dir=tmp_path / "cache")
    knowledge = load_leaf(done.taxonomy / KNOWLEDGE_LEAF / "qna.yaml", done.taxonomy)
    raw = (done.taxonomy / KNOWLEDGE_LEAF / "qna.yaml").read_text()
    assert "is a small,\n" in raw
    first = knowledge.seed_examples[0]
    assert first.answer.strip().startswith(
        "The black-capped chickadee (Poecile atricapillus) is a small, nonmigratory,"
    )
    for example in knowledge.seed_examples:
        for text in (example.question, example.answer, example.context or ""):
            assert all("\n" not in paragraph for paragraph in text.strip().split("\n\n")), text
    skill = load_leaf(done.taxonomy / SKILL_LEAF / "qna.yaml", done.taxonomy)
    assert any("\ntake part in\n" in example.answer for example in skill.seed_examples)
