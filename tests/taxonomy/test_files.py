"""Files that are not a usable qna.yaml at all: a clear message each, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.taxonomy import lint_paths, validate_file

from .conftest import FREEFORM, KNOWLEDGE


def _only_problem(path: Path, root: Path | None = None) -> str:
    report = validate_file(path, root)
    assert not report.valid and len(report.problems) == 1, [str(p) for p in report.problems]
    return str(report.problems[0])


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "qna.yaml"
    path.write_text(content)
    assert _only_problem(path) == f"{path}: is empty: a qna.yaml needs at least version, created_by and seed_examples"


def test_top_level_list(taxonomy: Path) -> None:
    path = taxonomy / FREEFORM
    path.write_text("- question: a\n  answer: b\n")
    assert _only_problem(path, taxonomy).startswith(f"{path}:1:1: the top level must be a mapping of keys")
    path.write_text("just a sentence\n")
    assert "found a single value" in _only_problem(path, taxonomy)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "qna.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert _only_problem(path) == f"{path}: is a binary file, not YAML text"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "qna.yaml"
    path.write_bytes("version: 3\ncreated_by: Jos\xe9\n".encode("latin-1"))
    assert _only_problem(path) == f"{path}:2: is not UTF-8 text"


def test_wrong_file_name(taxonomy: Path) -> None:
    good = taxonomy / FREEFORM
    wrong = good.with_name("qna.yml")
    good.rename(wrong)
    assert _only_problem(wrong, taxonomy) == f'{wrong}: taxonomy files must be named "qna.yaml", not "qna.yml"'
    report = lint_paths([taxonomy])
    assert [f.path for f in report.files if not f.valid] == [wrong]


def test_broken_yaml_points_at_the_problem(taxonomy: Path) -> None:
    path = taxonomy / KNOWLEDGE
    text = path.read_text().replace("domain: animals", "domain: 'animals")
    path.write_text(text)
    message = _only_problem(path, taxonomy)  # where libyaml notices the open quote: far below, but one line
    assert message.startswith(f"{path}:") and ": invalid YAML: " in message and "\n" not in message
    path.write_text("version: 3\ncreated_by: x\n\tseed_examples: []\n")
    assert _only_problem(path, taxonomy) == (
        f"{path}:3:1: invalid YAML: found a tab character that violates indentation (while scanning a plain scalar)"
    )


def test_several_documents(tmp_path: Path) -> None:
    path = tmp_path / "qna.yaml"
    path.write_text("version: 3\n---\nversion: 3\n")
    assert _only_problem(path) == (
        f"{path}:2:1: invalid YAML: expected a single document in the stream, but found another document"
    )


def test_unknown_yaml_tag_is_a_problem_not_a_crash(taxonomy: Path) -> None:
    path = taxonomy / FREEFORM
    path.write_text(path.read_text().replace("version: 3", "version: !!python/int 3"))
    report = validate_file(path, taxonomy)
    assert not report.valid
    assert any("version: must be the number 1, 2 or 3" in p.message for p in report.problems)


def test_missing_path_and_folder_in_lint(tmp_path: Path) -> None:
    report = lint_paths([tmp_path / "nope.yaml"])
    assert [str(p) for f in report.files for p in f.problems] == [f"{tmp_path / 'nope.yaml'}: no such file or folder"]
    folder = tmp_path / "qna.yaml"
    folder.mkdir()
    assert _only_problem(folder) == f"{folder}: is a folder, not a qna.yaml file"
