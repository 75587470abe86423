"""Verdicts that match what happened: files outside the leaf sections are named, --strict says invalid.

Issue 12: a new ``qna.yaml`` under ``foundational_skills/`` vanished from ``taxonomy diff``
(instructlab/instructlab#1367), and ``lint --strict`` on a file with only a yamllint warning
exited 1 while printing ``ok``, "all 1 files valid" and ``"valid": true``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.taxonomy import diff_taxonomy, lint_paths, load_leaves
from taxolab.testing.git import run_git

from .conftest import FREEFORM, KNOWLEDGE

LIMERICKS = "compositional_skills/writing/freeform/limericks/qna.yaml"
RIVER = "foundational_skills/reasoning/logical_reasoning/river_crossing/qna.yaml"
TYPO = "compositional_skill/writing/freeform/sonnets/qna.yaml"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _git(repo: Path, *args: str) -> str:
    return run_git(repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid", *args)


@pytest.fixture
def work_repo(shared_data: Path, tmp_path: Path) -> Path:
    """Case 05's repo: ``haiku`` on main; on ``work`` a limericks leaf, a foundational leaf, a template, a workflow."""
    leaf = shared_data / "taxonomy" / FREEFORM
    repo = tmp_path / "taxonomy"
    haiku = repo / "compositional_skills/writing/freeform/haiku/qna.yaml"
    haiku.parent.mkdir(parents=True)
    shutil.copy(leaf, haiku)
    run_git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "work")
    for relative in (LIMERICKS, RIVER):
        (repo / relative).parent.mkdir(parents=True)
        shutil.copy(leaf, repo / relative)
    (repo / "docs").mkdir()
    (repo / "docs/template_qna.yaml").write_text("version: 3\ncreated_by: <your GitHub name>\n")
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/lint.yaml").write_text("on: [push]\njobs: {}\n")
    return repo


@pytest.mark.parametrize("committed", [False, True])
def test_diff_names_a_foundational_leaf_instead_of_a_silent_valid(
    work_repo: Path, committed: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    if committed:
        _git(work_repo, "add", "-A")
        _git(work_repo, "commit", "-q", "-m", "new files")
    args = ["taxonomy", "diff", "--taxonomy-path", str(work_repo), "--taxonomy-base", "main"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "(changed against main): 1 file" in out and f"{LIMERICKS}  ok" in out
    assert f"notice: {RIVER}: not used for data generation" in out
    assert "foundational_skills/ is read by evaluation only" in out
    assert "template_qna" not in out and ".github" not in out
    code, out, _ = run([*args, "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["valid"] is True
    assert [f["path"] for f in data["files"]] == [LIMERICKS]
    assert len(data["notices"]) == 1 and data["notices"][0].startswith(f"{RIVER}: ")


def test_lint_of_the_tree_ignores_repository_plumbing(work_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["taxonomy", "lint", str(work_repo)], capsys)
    assert code == 0, err
    assert "docs/" not in out and ".github" not in out and "notice" not in out
    assert "all 3 files valid" in out


def test_a_leaf_in_a_misspelled_section_is_named_by_lint_and_diff(work_repo: Path) -> None:
    stray = work_repo / TYPO
    stray.parent.mkdir(parents=True)
    shutil.copy(work_repo / LIMERICKS, stray)
    for report in (lint_paths([work_repo]), diff_taxonomy(work_repo, "main")):
        stray_notices = [n for n in report.notices if n.startswith(TYPO)]
        assert len(stray_notices) == 1, report.notices
        assert "not a taxonomy leaf" in stray_notices[0] and "move it into one of them" in stray_notices[0]


def test_generation_with_only_a_foundational_change_says_why_not_use_base_empty(work_repo: Path) -> None:
    (work_repo / LIMERICKS).unlink()
    with pytest.raises(TaxolabError) as caught:
        load_leaves(work_repo, "main")
    message = str(caught.value)
    assert message.startswith(f"no knowledge/ or compositional_skills/ leaf changed against main: {RIVER}: not used")
    assert "--taxonomy-base empty" not in message


def _leaf_with_a_warning(tmp_path: Path, shared_data: Path) -> Path:
    """A valid v3 leaf whose only problem is a yamllint warning (a list indented by 2 where 4 is expected)."""
    target = tmp_path / "taxonomy" / KNOWLEDGE
    target.parent.mkdir(parents=True)
    text = (shared_data / "taxonomy" / KNOWLEDGE).read_text()
    target.write_text(text.replace("  patterns:\n    - chickadee.md", "  patterns:\n  - chickadee.md"))
    return target


def test_lint_strict_verdict_agrees_with_the_exit_status(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf = _leaf_with_a_warning(tmp_path, shared_data)
    code, out, err = run(["taxonomy", "lint", str(leaf)], capsys)
    assert code == 0 and "  ok" in out and "all 1 files valid (1 warning(s))" in out, out + err
    code, out, err = run(["taxonomy", "lint", "--strict", str(leaf)], capsys)
    assert code == 1
    assert "1 warning (fails --strict)" in out and "  ok" not in out and "files valid" not in out
    assert "1 of 1 files invalid under --strict (warnings fail): 0 error(s), 1 warning(s)" in err
    code, out, _ = run(["taxonomy", "lint", "--strict", "--json", str(leaf)], capsys)
    data = json.loads(out)
    assert code == 1 and data["strict"] is True and data["valid"] is False and data["files"][0]["valid"] is False
    code, out, _ = run(["taxonomy", "lint", "--json", str(leaf)], capsys)
    assert code == 0 and json.loads(out)["valid"] is True


def test_diff_strict_verdict_agrees_with_the_exit_status(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf = _leaf_with_a_warning(tmp_path, shared_data)
    root = tmp_path / "taxonomy"
    args = ["taxonomy", "diff", "--taxonomy-path", str(root), "--taxonomy-base", "empty", "--strict"]
    code, out, err = run(args, capsys)
    assert code == 1 and "(fails --strict)" in out and "files valid" not in out
    assert "invalid under --strict" in err
    code, out, _ = run([*args, "--json"], capsys)
    assert code == 1 and json.loads(out)["valid"] is False
    assert leaf.is_file()


def test_lint_of_a_folder_with_nothing_to_lint_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "not-a-taxonomy"
    (empty / "notes").mkdir(parents=True)
    (empty / "notes" / "README.md").write_text("hello\n")
    code, out, err = run(["taxonomy", "lint", str(empty)], capsys)
    assert code == 1 and f"{empty}: holds no YAML files to lint" in out
    assert "1 of 1 files invalid" in err


def test_diff_of_a_folder_that_is_not_a_taxonomy_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = tmp_path / "projects"  # e.g. the folder above the taxonomy: no sections, so no leaves, exit 0 before
    (parent / "taxonomy-typo").mkdir(parents=True)
    code, out, err = run(["taxonomy", "diff", "--taxonomy-path", str(parent), "--taxonomy-base", "empty"], capsys)
    assert code == 1 and out == ""
    assert f"{parent}: not a taxonomy: it has no knowledge/ or compositional_skills/ folder" in err
    assert "`taxolab taxonomy sample NEW_FOLDER`" in err  # the sample refuses a non-empty folder
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(["taxonomy", "diff", "--taxonomy-path", str(empty), "--taxonomy-base", "empty"], capsys)
    assert code == 1 and f"`taxolab taxonomy sample {empty}`" in err
    assert run(["taxonomy", "sample", str(empty)], capsys)[0] == 0  # and that hint works
    assert run(["taxonomy", "diff", "--taxonomy-path", str(empty), "--taxonomy-base", "empty"], capsys)[0] == 0
