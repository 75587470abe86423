"""Document problems name the leaf and its qna.yaml line, all leaves at once, before any teacher request.

Issue 12, case 06 (instructlab/instructlab#2182): a leaf pointing at ``.rst`` docs, a pattern
matching nothing, a commit that does not exist. ``.rst`` and ``.txt`` are read as plain text;
the other two are one-line errors at the line to fix, and ``data generate`` sends nothing to
the teacher when any leaf's documents cannot be used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.documents import (
    LeafDocumentError,
    LeavesDocumentError,
    check_leaf_documents,
    load_leaf_documents,
)
from taxolab.taxonomy import load_leaf
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import git

SAMPLE = "knowledge/science/animals/birds/black_capped_chickadee/qna.yaml"
UPSTREAM_DOC = (
    "  repo: https://github.com/juliadenham/Summit_knowledge\n"
    "  commit: 5f7158a5ce83c4ff493bfe341fe31ecad64ff697\n"
    "  patterns:\n"
    "    - chickadee.md\n"
)
TEXT = "# Examplia\n\nExamplia is a small town on the river Exa. It was founded in 1820 by salt traders.\n"
RST = "Examplia\n========\n\nExamplia is a small town on the river Exa. It was founded in 1820 by salt traders.\n"


@pytest.fixture
def doc_repos(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Two document repos: Markdown only, reStructuredText (and plain text) only."""
    repos = {}
    for name, files in {
        "md": {"examplia.md": TEXT},
        "rst": {"examplia.rst": RST, "README.rst": RST, "notes.txt": "Plain notes about Examplia.\n"},
    }.items():
        repo = tmp_path / f"docs-{name}"
        repo.mkdir()
        for file, text in files.items():
            (repo / file).write_text(text)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "docs")
        repos[name] = (repo, git(repo, "rev-parse", "HEAD").strip())
    return repos


def make_leaf(root: Path, shared_data: Path, name: str, repo: Path, commit: str, *patterns: str) -> Path:
    """A copy of the sample knowledge leaf at ``knowledge/towns/<name>`` whose document is ``repo@commit``."""
    text = (shared_data / "taxonomy" / SAMPLE).read_text()
    assert UPSTREAM_DOC in text
    listed = "".join(f"    - '{p}'\n" for p in patterns)
    target = root / "knowledge" / "towns" / name / "qna.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text.replace(UPSTREAM_DOC, f"  repo: {repo}\n  commit: {commit}\n  patterns:\n{listed}"))
    return target


def line_of(path: Path, needle: str) -> int:
    text = path.read_text()
    return text[: text.index(needle)].count("\n") + 1


def _load(qna: Path, root: Path, cache: Path) -> list[object]:
    return list(load_leaf_documents(load_leaf(qna, root), mirrors={}, cache_dir=cache))


def test_rst_and_txt_documents_are_read_as_plain_text(
    tmp_path: Path, shared_data: Path, doc_repos: dict[str, tuple[Path, str]], cache: Path
) -> None:
    root = tmp_path / "tax"
    repo, commit = doc_repos["rst"]
    qna = make_leaf(root, shared_data, "examplia", repo, commit, "*.rst", "*.txt")
    documents = load_leaf_documents(load_leaf(qna, root), mirrors={}, cache_dir=cache)
    assert [d.name for d in documents] == ["README.rst", "examplia.rst", "notes.txt"]
    assert "founded in 1820" in documents[1].text


def test_pattern_matching_nothing_names_leaf_line_pattern_and_repo(
    tmp_path: Path, shared_data: Path, doc_repos: dict[str, tuple[Path, str]], cache: Path
) -> None:
    root = tmp_path / "tax"
    repo, commit = doc_repos["md"]
    qna = make_leaf(root, shared_data, "examplia", repo, commit, "docs/*.md")
    with pytest.raises(LeafDocumentError) as caught:
        _load(qna, root, cache)
    assert str(caught.value) == (
        f"{qna}:{line_of(qna, 'docs/*.md')}: leaf knowledge/towns/examplia: pattern 'docs/*.md' matches no file "
        f"in {repo} at {commit[:12]} (top level holds: examplia.md)"
    )


def test_unknown_commit_points_at_the_commit_line(
    tmp_path: Path, shared_data: Path, doc_repos: dict[str, tuple[Path, str]], cache: Path
) -> None:
    root = tmp_path / "tax"
    repo, _ = doc_repos["md"]
    missing = "0123456789abcdef0123456789abcdef01234567"
    qna = make_leaf(root, shared_data, "examplia", repo, missing, "*.md")
    with pytest.raises(LeafDocumentError) as caught:
        _load(qna, root, cache)
    message = str(caught.value)
    assert message.startswith(f"{qna}:{line_of(qna, 'commit: 0123')}: leaf knowledge/towns/examplia: ")
    assert f"commit {missing} is not in the document repo {repo}" in message and "\n" not in message


def test_unreadable_formats_and_bad_encoding_name_the_document_not_the_cache(
    tmp_path: Path, shared_data: Path, cache: Path
) -> None:
    repo = tmp_path / "docs-odd"
    repo.mkdir()
    (repo / "page.html").write_text("<p>Examplia</p>")
    (repo / "latin1.md").write_bytes("caf\xe9 in Examplia\n".encode("latin-1"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "docs")
    commit = git(repo, "rev-parse", "HEAD").strip()
    root = tmp_path / "tax"
    html = make_leaf(root, shared_data, "html", repo, commit, "*.html")
    with pytest.raises(LeafDocumentError, match=r"pattern '\*\.html' .* matches only files taxolab cannot read"):
        _load(html, root, cache)
    latin = make_leaf(root, shared_data, "latin", repo, commit, "latin1.md")
    with pytest.raises(LeafDocumentError) as caught:
        _load(latin, root, cache)
    assert f"latin1.md in {repo} at {commit[:12]}: not UTF-8 text" in str(caught.value)
    assert str(cache) not in str(caught.value)


def test_every_failing_leaf_is_listed_in_one_error(
    tmp_path: Path, shared_data: Path, doc_repos: dict[str, tuple[Path, str]], cache: Path
) -> None:
    root = tmp_path / "tax"
    md_repo, md_commit = doc_repos["md"]
    good = make_leaf(root, shared_data, "good", md_repo, md_commit, "*.md")
    nomatch = make_leaf(root, shared_data, "nomatch", md_repo, md_commit, "docs/*.md")
    badsha = make_leaf(root, shared_data, "badsha", md_repo, "f" * 40, "*.md")
    leaves = [load_leaf(p, root) for p in (good, nomatch, badsha)]
    with pytest.raises(LeavesDocumentError) as caught:
        check_leaf_documents(leaves, mirrors={}, cache_dir=cache)
    lines = str(caught.value).splitlines()
    assert lines[0] == "documents of 2 knowledge leaves cannot be used:"
    assert lines[1].startswith(f"{nomatch}:") and lines[2].startswith(f"{badsha}:")
    check_leaf_documents(leaves[:1], mirrors={}, cache_dir=cache)  # the good leaf alone passes


def test_generate_sends_no_teacher_request_when_a_leaf_has_document_problems(
    tmp_path: Path,
    shared_data: Path,
    doc_repos: dict[str, tuple[Path, str]],
    fake_teacher: FakeOpenAIServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "tax"
    md_repo, md_commit = doc_repos["md"]
    make_leaf(root, shared_data, "good", md_repo, md_commit, "*.md")
    bad = make_leaf(root, shared_data, "nomatch", md_repo, md_commit, "docs/*.md")
    skill = root / "compositional_skills" / "linguistics" / "synonyms"
    skill.mkdir(parents=True)
    shutil.copy(shared_data / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms" / "qna.yaml", skill)
    args = ["data", "generate", "--taxonomy-path", str(root), "--taxonomy-base", "empty", "--pipeline", "simple"]
    args += ["--endpoint-url", fake_teacher.url, "--output-dir", str(tmp_path / "run")]
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert f"{bad}:{line_of(bad, 'docs/*.md')}: leaf knowledge/towns/nomatch: pattern 'docs/*.md'" in err
    assert fake_teacher.requests == []


def test_lint_of_a_leaf_with_a_bad_document_link_is_still_schema_valid(
    tmp_path: Path, shared_data: Path, doc_repos: dict[str, tuple[Path, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "tax"
    md_repo, _ = doc_repos["md"]
    qna = make_leaf(root, shared_data, "badsha", md_repo, "f" * 40, "*.md")
    assert main(["taxonomy", "lint", "--json", str(qna)]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
