"""Which leaves changed against a git base, in real git repositories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from taxolab.errors import TaxolabError
from taxolab.taxonomy import changed_qna_files, changed_taxonomy_files, diff_taxonomy, load_leaves

from .conftest import FOUNDATIONAL, FREEFORM, GROUNDED, KNOWLEDGE, GitRunner

NEW_LEAF = "compositional_skills/linguistics/antonyms/qna.yaml"


def _add_leaf(root: Path, relative: str, source: str = FREEFORM) -> Path:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / source, target)
    return target


def _relative(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_clean_clone_has_no_changes(taxonomy_repo: Path) -> None:
    changed = changed_taxonomy_files(taxonomy_repo)
    assert changed.base == "origin/main" and changed.paths == []


def test_added_modified_and_untracked_leaves(taxonomy_repo: Path, git: GitRunner) -> None:
    committed = _add_leaf(taxonomy_repo, NEW_LEAF)
    git(taxonomy_repo, "checkout", "-q", "-b", "my-skill")
    git(taxonomy_repo, "add", str(committed))
    git(taxonomy_repo, "commit", "-q", "-m", "antonyms")
    modified = taxonomy_repo / KNOWLEDGE  # edited, not even staged
    modified.write_text(modified.read_text().replace("domain: animals", "domain: birds"))
    untracked = _add_leaf(taxonomy_repo, "knowledge/science/animals/birds/robin/qna.yaml", KNOWLEDGE)
    (taxonomy_repo / GROUNDED).unlink()  # deleted leaves are not listed
    (taxonomy_repo / FOUNDATIONAL).write_text("changed: but not a generation leaf\n")
    (taxonomy_repo / "README.md").write_text("not a leaf\n")
    (taxonomy_repo / "compositional_skills/linguistics/antonyms/attribution.txt").write_text("not yaml\n")
    assert _relative(taxonomy_repo, changed_qna_files(taxonomy_repo)) == sorted(
        _relative(taxonomy_repo, [committed, modified, untracked])
    )


def test_explicit_base_ref_and_empty(taxonomy_repo: Path, git: GitRunner) -> None:
    git(taxonomy_repo, "tag", "v1")
    first = _add_leaf(taxonomy_repo, NEW_LEAF)
    git(taxonomy_repo, "add", "-A")
    git(taxonomy_repo, "commit", "-q", "-m", "one")
    git(taxonomy_repo, "tag", "v2")
    second = _add_leaf(taxonomy_repo, "compositional_skills/linguistics/homonyms/qna.yaml")
    git(taxonomy_repo, "add", "-A")
    git(taxonomy_repo, "commit", "-q", "-m", "two")
    assert changed_qna_files(taxonomy_repo, "v1") == [first, second]
    assert changed_qna_files(taxonomy_repo, "v2") == [second]
    head = git(taxonomy_repo, "rev-parse", "HEAD").strip()
    assert changed_qna_files(taxonomy_repo, head) == []
    everything = changed_taxonomy_files(taxonomy_repo, "empty")
    assert everything.base == "empty" and len(everything.paths) == 7  # 5 sample leaves + 2 new


def test_auto_falls_back_to_upstream_main_then_to_all(taxonomy_repo: Path, git: GitRunner) -> None:
    git(taxonomy_repo, "remote", "rename", "origin", "upstream")
    _add_leaf(taxonomy_repo, NEW_LEAF)
    changed = changed_taxonomy_files(taxonomy_repo)
    assert changed.base == "upstream/main" and _relative(taxonomy_repo, changed.paths) == [NEW_LEAF]
    git(taxonomy_repo, "remote", "remove", "upstream")
    changed = changed_taxonomy_files(taxonomy_repo)
    assert changed.base == "empty" and len(changed.paths) == 6


def test_repo_without_commits_lists_untracked_leaves(taxonomy: Path, git: GitRunner) -> None:
    git(taxonomy, "init", "-q")
    assert len(changed_qna_files(taxonomy)) == 5


def test_taxonomy_in_a_subfolder_of_the_repo(taxonomy_repo: Path, git: GitRunner, tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    shutil.copytree(taxonomy_repo, outer / "taxonomy", ignore=shutil.ignore_patterns(".git"))
    git(outer, "init", "-q")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "all")
    git(outer, "branch", "base")
    root = outer / "taxonomy"
    added = _add_leaf(root, NEW_LEAF)
    (outer / "knowledge").mkdir()
    _add_leaf(outer, "knowledge/other/qna.yaml", "taxonomy/" + KNOWLEDGE)  # outside the taxonomy: ignored
    assert changed_qna_files(root, "base") == [added]


def test_unknown_ref_and_not_a_repo_are_clear_errors(taxonomy_repo: Path, taxonomy: Path) -> None:
    with pytest.raises(TaxolabError, match=r"unknown git ref 'origin/nope' \(branches and tags here: ") as bad:
        changed_qna_files(taxonomy_repo, "origin/nope")
    assert str(bad.value).count("origin/nope") == 1  # the hint lists real refs, never the one that failed
    plain = taxonomy_repo.parent / "plain"
    shutil.copytree(taxonomy_repo, plain, ignore=shutil.ignore_patterns(".git"))
    with pytest.raises(TaxolabError, match=r"not a git repository.*--taxonomy-base empty") as caught:
        changed_qna_files(plain)
    assert "\n" not in str(caught.value)
    assert len(changed_qna_files(plain, "empty")) == 5  # no git needed for all leaves
    with pytest.raises(TaxolabError, match="taxonomy folder not found"):
        changed_qna_files(plain / "missing", "empty")


def test_diff_report_flags_misnamed_and_invalid_changes(taxonomy_repo: Path) -> None:
    misnamed = _add_leaf(taxonomy_repo, "compositional_skills/linguistics/antonyms/qna.yml")
    broken = _add_leaf(taxonomy_repo, NEW_LEAF)
    broken.write_text(broken.read_text().replace("created_by: yanpliu", "created_by:"))
    report = diff_taxonomy(taxonomy_repo)
    assert [(f.path, f.valid) for f in report.files] == [(broken, False), (misnamed, False)]
    assert not report.valid
    with pytest.raises(TaxolabError) as caught:
        load_leaves(taxonomy_repo)
    assert str(caught.value).splitlines() == [
        f"{broken}:2:1: created_by: must be text, found nothing",
        f'{misnamed}: taxonomy files must be named "qna.yaml", not "qna.yml"',
    ]


def test_load_leaves_returns_changed_valid_leaves(taxonomy_repo: Path) -> None:
    _add_leaf(taxonomy_repo, NEW_LEAF)
    leaves = load_leaves(taxonomy_repo)
    assert [leaf.name for leaf in leaves] == ["compositional_skills_linguistics_antonyms"]
    assert leaves[0].qna_path.relative_to(taxonomy_repo) == Path(NEW_LEAF)


def test_unknown_ref_hint_lists_the_real_branches_only(taxonomy: Path, git: GitRunner) -> None:
    """QA: a repo with only `main` was told to use origin/main, the ref that had just failed."""
    from taxolab.taxonomy.worktree import taxonomy_at

    root = taxonomy
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "x")
    with pytest.raises(TaxolabError) as caught:
        changed_qna_files(root, "origin/main")
    assert "unknown git ref 'origin/main' (branches and tags here: main;" in str(caught.value)
    assert str(caught.value).count("origin/main") == 1
    with pytest.raises(TaxolabError) as caught, taxonomy_at(root, "nope"):
        pass
    assert "unknown git ref 'nope' (branches and tags here: main;" in str(caught.value)
    assert "unknown error" not in str(caught.value)
