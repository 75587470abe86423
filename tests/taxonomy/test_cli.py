"""``taxolab taxonomy diff|lint`` through the real entry point: exit codes, one-line errors, --json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxolab.cli.main import main

from .conftest import FREEFORM, KNOWLEDGE

NEW_LEAF = "compositional_skills/linguistics/antonyms/qna.yaml"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _add_leaf(root: Path) -> Path:
    target = root / NEW_LEAF
    target.parent.mkdir(parents=True)
    shutil.copy(root / FREEFORM, target)
    return target


def test_diff_lists_changed_leaves_and_exits_0(taxonomy_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _add_leaf(taxonomy_repo)
    code, out, err = run(["taxonomy", "diff", "--taxonomy-path", str(taxonomy_repo)], capsys)
    assert code == 0, err
    assert "(changed against origin/main): 1 file" in out
    assert f"freeform_skill  v3  {NEW_LEAF}  ok" in out
    assert "all 1 files valid" in out


def test_diff_with_an_invalid_leaf_exits_1_with_located_problems(
    taxonomy_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf = _add_leaf(taxonomy_repo)
    leaf.write_text(leaf.read_text().replace("version: 3\n", "version: 3\nauthor: me\n"))
    code, out, err = run(["taxonomy", "diff", "--taxonomy-path", str(taxonomy_repo)], capsys)
    assert code == 1
    assert (
        f"{leaf}:2:1: author: unknown key (allowed here: version, created_by, task_description, seed_examples)" in out
    )
    assert err.strip() == "error: 1 of 1 files invalid: 1 error(s), 0 warning(s)"
    assert "Traceback" not in out + err
    code, out, _ = run(["taxonomy", "diff", "--taxonomy-path", str(taxonomy_repo), "--quiet"], capsys)
    assert code == 1 and out.strip().splitlines() == [
        f"{leaf}:2:1: author: unknown key (allowed here: version, created_by, task_description, seed_examples)"
    ]


def test_diff_json(taxonomy_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaf = _add_leaf(taxonomy_repo)
    leaf.write_text(leaf.read_text().replace("created_by: yanpliu", "created_by: yanpliu "))
    code, out, _ = run(["taxonomy", "diff", "--taxonomy-path", str(taxonomy_repo), "--json"], capsys)
    assert code == 1
    data = json.loads(out)
    assert data["base"] == "origin/main" and data["valid"] is False and data["errors"] == 1
    assert data["files"] == [
        {
            "path": NEW_LEAF,
            "kind": "freeform_skill",
            "version": 3,
            "valid": False,
            "errors": [
                {
                    "line": 2,
                    "col": 20,
                    "severity": "error",
                    "rule": "yamllint:trailing-spaces",
                    "message": "trailing spaces (trailing-spaces)",
                }
            ],
            "warnings": [],
        }
    ]


def test_diff_base_and_path_default_from_config(
    taxonomy_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"paths:\n  taxonomy: {taxonomy_repo}\ntaxonomy:\n  base: empty\n")
    code, out, err = run(["--config", str(config), "taxonomy", "diff", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["base"] == "empty" and len(data["files"]) == 5
    code, out, _ = run(
        ["--config", str(config), "taxonomy", "diff", "--taxonomy-base", "origin/main", "--json"], capsys
    )
    assert code == 0 and json.loads(out)["files"] == []


def test_diff_errors_are_one_line(taxonomy_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["taxonomy", "diff", "--taxonomy-path", str(taxonomy_repo), "--taxonomy-base", "nope"], capsys)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "unknown git ref 'nope'" in err
    plain = tmp_path / "plain"
    (plain / "knowledge").mkdir(parents=True)
    code, _, err = run(["taxonomy", "diff", "--taxonomy-path", str(plain)], capsys)
    assert code == 1 and "not a git repository" in err and "Traceback" not in err


def test_lint_files_and_trees(shared_data: Path, taxonomy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["taxonomy", "lint", str(shared_data / "taxonomy")], capsys)
    assert code == 0 and "all 16 files valid" in out
    bad = taxonomy / KNOWLEDGE
    bad.write_text(bad.read_text().replace("  patterns:\n    - chickadee.md", "  patterns: []"))
    code, out, _ = run(["taxonomy", "lint", str(bad), str(taxonomy / FREEFORM), "--json"], capsys)
    assert code == 1
    data = json.loads(out)
    assert [(f["kind"], f["valid"]) for f in data["files"]] == [("knowledge", False), ("freeform_skill", True)]
    (error,) = data["files"][0]["errors"]
    assert (error["line"], error["col"]) == (position_of(bad, "patterns"), 3)
    assert error["message"] == "document.patterns: needs at least 1 file pattern, found 0"


def test_lint_warnings_pass_unless_strict(taxonomy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaf = taxonomy / KNOWLEDGE
    leaf.write_text(leaf.read_text().replace("  patterns:\n    - chickadee.md", "  patterns:\n  - chickadee.md"))
    code, out, _ = run(["taxonomy", "lint", str(leaf)], capsys)
    assert code == 0 and "warning: wrong indentation: expected 4 but found 2 (indentation)" in out
    code, _, _ = run(["taxonomy", "lint", "--strict", str(leaf)], capsys)
    assert code == 1


def test_lint_defaults_to_the_configured_taxonomy(taxonomy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (taxonomy / FREEFORM).write_bytes(b"\x00\x01binary")
    code, out, _ = run(["taxonomy", "lint", "-q"], capsys)  # default data dir: no taxonomy there yet
    assert code == 1 and "no such file or folder" in out
    code, out, _ = run(["taxonomy", "lint", "-q", str(taxonomy)], capsys)
    assert code == 1 and out.strip() == f"{taxonomy / FREEFORM}: is a binary file, not YAML text"


def position_of(path: Path, needle: str) -> int:
    text = path.read_text()
    return text.count("\n", 0, text.index(needle)) + 1
